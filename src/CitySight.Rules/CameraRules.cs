using System.Security.Cryptography;
using System.Text;
using CitySight.Domain;
using Prometheus;

namespace CitySight.Rules;

/// <summary>
/// Turns one camera's tracked frames into case decisions (the tracking stage has made detections into tracks, stable
/// across samples): a track becomes a case once it has been in a zone that is in force for its type's dwell —
/// stationary for it when the type asks (a parked car, a pile of garbage), merely present otherwise (a stall). One track is one case however long
/// it stays; a new track at the place of a case still open (the object was hidden for a while) is that case again.
/// Runs on frame time only (never the wall clock), so a file replayed faster than real time gives the same cases.
/// Not thread-safe: one instance per camera and per tracker (track ids are the tracker's), fed in capture-time order.
/// </summary>
public sealed class CameraRules
{
    private static readonly Counter Hits = Metrics.CreateCounter(
        "citysight_hits_total", "Tracks that met their case type's dwell inside a zone.", "case_type");

    private readonly Camera _camera;
    private readonly RuleOptions _options;
    private readonly Dictionary<string, CaseTypeRules> _rules = new(StringComparer.Ordinal);
    private readonly Dictionary<long, DateTimeOffset> _inZoneSince = [];
    private readonly Dictionary<long, OpenCase> _caseOfTrack = [];
    private readonly List<OpenCase> _open = [];
    private readonly List<CaseDecision> _decisions = [];

    public CameraRules(Camera camera, RuleOptions options)
    {
        _camera = camera;
        _options = options;
    }

    /// <summary>The camera's definition these rules apply (its zones).</summary>
    public Camera Camera => _camera;

    /// <summary>Cases still open in memory (for inspection and tests).</summary>
    public int OpenCases => _open.Count;

    /// <summary>Re-seeds memory with a case raised before a restart, so the object still there is not raised again.</summary>
    public void Remember(Case c) =>
        _open.Add(new OpenCase(c.Id, c.CaseType, c.Box, c.LastSeen, c.Confidence, c.LastSeen));

    /// <summary>Evaluates one tracked frame of this camera. The returned list is reused by the next call.</summary>
    public IReadOnlyList<CaseDecision> Evaluate(TrackedFrame tracked)
    {
        _decisions.Clear();
        var frame = tracked.Frame;
        var now = frame.CaptureTime;
        // A loop, not RemoveAll: a lambda capturing now would allocate on every frame.
        for (var i = _open.Count - 1; i >= 0; i--)
            if (now - _open[i].LastSeen > _options.DedupWindow) _open.RemoveAt(i);

        foreach (var id in tracked.RemovedTrackIds)
        {
            _inZoneSince.Remove(id);
            _caseOfTrack.Remove(id);
        }

        var tracks = tracked.Tracks;
        for (var i = 0; i < tracks.Length; i++)
        {
            var t = tracks[i];
            // Only what was seen on this frame can be evidence; a lost track keeps its case and dwell meanwhile.
            if (t.State != TrackState.Confirmed || t.CaseType is not { } type) continue;
            var rule = RuleFor(type);
            if (_camera.ZoneFor(type, t.Box.BottomCentre(frame.Width, frame.Height), now) is not { } zone)
            {
                _inZoneSince.Remove(t.Id);
                continue;
            }
            if (!_inZoneSince.TryGetValue(t.Id, out var inZone)) _inZoneSince[t.Id] = inZone = now;

            if (_caseOfTrack.TryGetValue(t.Id, out var known))
            {
                if (t.Confidence >= rule.MinConfidence) Sighted(known, t, zone, now, rule);
                continue;
            }

            if (t.Hits < _options.ConfirmSamples || t.Confidence < rule.MinConfidence) continue;
            DateTimeOffset? since = rule.RequireStationary ? t.StationarySince : t.FirstSeen;
            if (since is not { } start) continue;
            if (inZone > start) start = inZone;
            if (now - start < rule.MinDwell) continue;

            var box = t.Box;
            Box? goods = null;
            var className = t.ClassName;
            if (type == ModelFreeTypes.StreetStall && t.ClassName == ModelFreeTypes.PersonClass)
            {
                // A person who stayed is a stall only with goods beside them: passers-by, a queue, someone waiting
                // at a crossing stand with nothing of theirs put down.
                if (VendorItemBeside(tracks, t, now) is not { } item) continue;
                goods = item.Box;
                box = Union(t.Box, item.Box);
                className = $"{t.ClassName}+{item.ClassName}";
            }
            else if (type == ModelFreeTypes.Garbage && InsideOpenStall(t.Box))
            {
                continue; // a stall's goods are that stall's case, not a second one for the same event
            }

            var hit = new Hit(_camera.Id, type, zone, box, t.Confidence, t.FirstSeen, now, className);
            Hits.WithLabels(type).Inc();
            var open = BestOpenAt(type, t.Box);
            if (open is not null)
            {
                _caseOfTrack[t.Id] = open;
                Sighted(open, t, zone, now, rule);
                continue;
            }
            var id = CaseIdFor(hit);
            var opened = new OpenCase(id, type, box, now, t.Confidence, now) { Goods = goods };
            _open.Add(opened);
            _caseOfTrack[t.Id] = opened;
            _decisions.Add(new CaseOpened(id, hit) { TrackId = t.Id });
        }
        return _decisions;
    }

    private void Sighted(OpenCase open, in Track t, string zone, DateTimeOffset now, CaseTypeRules rule)
    {
        var better = t.Confidence > open.BestConfidence;
        open.LastSeen = now;
        // A stall is its person with the goods it was raised with: the case keeps showing both.
        open.Box = open.Goods is { } goods ? Union(t.Box, goods) : t.Box;
        if (better) open.BestConfidence = t.Confidence;
        // A static object (a signboard) is reported once: its sightings only say it is still there (never a better picture,
        // never a new case once closed), often enough that it is not taken for gone.
        if (rule.ReportOnce) better = false;
        if (better || now - open.LastReported >= _options.SightingInterval)
        {
            open.LastReported = now;
            _decisions.Add(new CaseSighted(open.Id, HitOf(t, open.Box, zone, now), better) { TrackId = t.Id });
        }
    }

    /// <summary>
    /// A vendor item (<see cref="ModelFreeTypes.VendorItemClasses"/>) seen on this frame, still for at least
    /// <see cref="RuleOptions.StallItemStill"/>, whose box comes within <see cref="RuleOptions.StallReach"/> of the
    /// person's heights of the person's foot; the nearest such. Null when there is none.
    /// </summary>
    private Track? VendorItemBeside(ReadOnlySpan<Track> tracks, in Track person, DateTimeOffset now)
    {
        var reach = person.Box.Height * _options.StallReach;
        var footX = (person.Box.X1 + person.Box.X2) / 2;
        var footY = person.Box.Y2;
        Track? best = null;
        var bestDistance = float.MaxValue;
        for (var i = 0; i < tracks.Length; i++)
        {
            var o = tracks[i];
            if (o.State != TrackState.Confirmed || !ModelFreeTypes.VendorItemClasses.Contains(o.ClassName)) continue;
            if (o.StationaryFor(now) < _options.StallItemStill) continue;
            // Distance from the foot to the item's box (zero inside it).
            var dx = MathF.Max(0, MathF.Max(o.Box.X1 - footX, footX - o.Box.X2));
            var dy = MathF.Max(0, MathF.Max(o.Box.Y1 - footY, footY - o.Box.Y2));
            var distance = MathF.Sqrt(dx * dx + dy * dy);
            if (distance <= reach && distance < bestDistance)
            {
                best = o;
                bestDistance = distance;
            }
        }
        return best;
    }

    /// <summary>Whether a box's centre lies inside the box of a street_stall case still open on this camera.</summary>
    private bool InsideOpenStall(Box box)
    {
        var cx = (box.X1 + box.X2) / 2;
        var cy = (box.Y1 + box.Y2) / 2;
        foreach (var c in _open)
            if (c.CaseType == ModelFreeTypes.StreetStall && cx >= c.Box.X1 && cx <= c.Box.X2 && cy >= c.Box.Y1 && cy <= c.Box.Y2)
                return true;
        return false;
    }

    private static Box Union(Box a, Box b) =>
        new(MathF.Min(a.X1, b.X1), MathF.Min(a.Y1, b.Y1), MathF.Max(a.X2, b.X2), MathF.Max(a.Y2, b.Y2));

    private Hit HitOf(in Track t, Box box, string zone, DateTimeOffset now) =>
        new(_camera.Id, t.CaseType!, zone, box, t.Confidence, t.FirstSeen, now, t.ClassName);

    private CaseTypeRules RuleFor(string type)
    {
        if (!_rules.TryGetValue(type, out var rule)) _rules[type] = rule = _options.RuleFor(type);
        return rule;
    }

    private OpenCase? BestOpenAt(string type, Box box)
    {
        OpenCase? best = null;
        var bestIoU = _options.SameObjectIoU;
        foreach (var c in _open)
        {
            if (c.CaseType != type || _caseOfTrack.ContainsValue(c)) continue;
            var iou = c.Box.IoU(box);
            if (iou >= bestIoU) { best = c; bestIoU = iou; }
        }
        return best;
    }

    /// <summary>Stable across replays: the same event in the same footage gets the same id.</summary>
    public static string CaseIdFor(Hit hit)
    {
        var key = $"{hit.CameraId}|{hit.CaseType}|{hit.FirstSeen.UtcTicks}|{(int)hit.Box.X1},{(int)hit.Box.Y1},{(int)hit.Box.X2},{(int)hit.Box.Y2}";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        return $"cs-{hit.FirstSeen.UtcDateTime:yyyyMMdd}-{Convert.ToHexStringLower(hash, 0, 6)}";
    }

    private sealed class OpenCase(string id, string caseType, Box box, DateTimeOffset lastSeen, float bestConfidence, DateTimeOffset lastReported)
    {
        public string Id { get; } = id;
        public string CaseType { get; } = caseType;
        public Box Box { get; set; } = box;
        public DateTimeOffset LastSeen { get; set; } = lastSeen;
        public float BestConfidence { get; set; } = bestConfidence;
        public DateTimeOffset LastReported { get; set; } = lastReported;
        /// <summary>A stall's goods as they stood when it was raised; null for any other case.</summary>
        public Box? Goods { get; init; }
    }
}
