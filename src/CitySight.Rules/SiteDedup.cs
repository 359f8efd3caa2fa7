using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CitySight.Domain;

namespace CitySight.Rules;

/// <summary>How precisely a sighting's place is known.</summary>
public enum PlaceKind
{
    /// <summary>Mapped through the camera's ground homography: metres.</summary>
    Ground,
    /// <summary>The camera's own position (no ground mapping, or the point is beyond it): as coarse as the camera's view.</summary>
    Camera,
    /// <summary>The camera has neither a position nor a ground mapping: comparable only with that camera's own hits.</summary>
    Unknown,
}

/// <summary>
/// One confirmed hit as site dedup sees it. <see cref="FrameShare"/>: the box's area over the frame's (0 = unknown);
/// <see cref="ImagePoint"/>: where it stands on its camera's image (the box's bottom centre), used to tell apart
/// same-type hits of one camera whose place is only the camera's position.
/// </summary>
public readonly record struct Sighting(
    string CaseType,
    GeoPoint Place,
    PlaceKind PlaceKind,
    DateTimeOffset At,
    string CameraId,
    float Confidence = 0,
    double FrameShare = 0,
    NormalisedPoint? ImagePoint = null)
{
    /// <summary>
    /// The sighting of a hit: its place is the box's bottom centre on the ground when the camera is mapped and the point
    /// is within the mapping's range, else the camera's position, else unknown. Its time is the hit's capture time.
    /// </summary>
    public static Sighting Of(Hit hit, GroundMapping mapping, int imageWidth, int imageHeight)
    {
        var foot = hit.Box.BottomCentre(imageWidth, imageHeight);
        var share = imageWidth > 0 && imageHeight > 0 ? hit.Box.Area / ((double)imageWidth * imageHeight) : 0;
        var (place, kind) =
            mapping.IsMapped && mapping.ToGround(foot) is { } g ? (g, PlaceKind.Ground)
            : mapping.HasPosition ? (mapping.Position, PlaceKind.Camera)
            : (default, PlaceKind.Unknown);
        return new Sighting(hit.CaseType, place, kind, hit.SeenAt, hit.CameraId, hit.Confidence, share, foot);
    }
}

/// <summary>What site dedup concluded about one sighting.</summary>
public abstract record SiteDecision(string CaseId);

/// <summary>Nothing of this type is open or cooling down here: raise a case with this id; this sighting is its evidence.</summary>
public sealed record NewSiteCase(string CaseId) : SiteDecision(CaseId);

/// <summary>
/// An open case of this type is here (whichever camera raised it): update its last seen.
/// <see cref="BetterEvidence"/>: this sighting is the better picture, keep its frame as the case's evidence.
/// <see cref="DistanceMetres"/>: from the case's place (NaN when compared on the image).
/// </summary>
public sealed record SameSiteCase(string CaseId, bool BetterEvidence, double DistanceMetres) : SiteDecision(CaseId);

/// <summary>A case of this type here was closed or rejected and the place is cooling down until <see cref="Until"/>: raise nothing.</summary>
public sealed record SiteCooldown(string CaseId, DateTimeOffset Until, bool Rejected) : SiteDecision(CaseId);

/// <summary>An open case no camera has seen for the window: closed by CitySight as of <see cref="At"/> (last seen + window).</summary>
public readonly record struct GoneCase(string CaseId, DateTimeOffset LastSeen, DateTimeOffset At);

/// <summary>
/// District-wide memory of cases by type and place, shared by all cameras: hits of one type within
/// <see cref="SiteDedupOptions.SamePlaceRadiusMetres"/> of an open case (not unseen for <see cref="SiteDedupOptions.Window"/>) are
/// that case, whichever camera saw them, and the better picture is flagged; a closed or rejected case cools its place down.
/// <para>
/// On frame time only: <see cref="Sighting.At"/> are capture times; forgetting runs on the latest capture time seen
/// (<see cref="Now"/>), never the wall clock, so a replay gives the same decisions and ids. Memory stays bounded: open
/// cases unseen for the window are closed as gone (<see cref="TakeGone"/>), closed ones forgotten after their cooldown. Thread-safe (one lock), though the case worker
/// is meant to call it from its single loop.
/// </para>
/// </summary>
public sealed class SiteDedup
{
    private readonly SiteDedupOptions _options;
    private readonly List<SiteCase> _cases = [];
    private readonly Dictionary<string, SiteCase> _byId = new(StringComparer.Ordinal);
    private readonly List<GoneCase> _gone = [];
    private readonly Lock _gate = new();
    private DateTimeOffset _now = DateTimeOffset.MinValue;

    public SiteDedup(SiteDedupOptions? options = null) => _options = options ?? new SiteDedupOptions();

    public SiteDedupOptions Options => _options;

    /// <summary>The latest capture time seen; what "now" means for forgetting. Pass it to <see cref="Close"/> for "as of now".</summary>
    public DateTimeOffset Now { get { lock (_gate) return _now; } }

    /// <summary>Cases remembered (open and cooling down).</summary>
    public int Count { get { lock (_gate) return _cases.Count; } }

    /// <summary>Open cases remembered.</summary>
    public int OpenCount { get { lock (_gate) return _cases.Count(c => !c.Closed); } }

    /// <summary>New cases decided here that the store has not taken yet (<see cref="MarkStored"/>).</summary>
    public int WaitingCount { get { lock (_gate) return _cases.Count(c => !c.Stored); } }

    /// <summary>
    /// The store has committed the case: from now on it is a stored case, not one waiting. A new case is known here from
    /// <see cref="Decide"/> on (so its later sightings are that case, not a second one) but as waiting until this is called.
    /// </summary>
    public void MarkStored(string caseId)
    {
        lock (_gate)
            if (_byId.TryGetValue(caseId, out var c)) c.Stored = true;
    }

    /// <summary>Is this case remembered here (open or cooling down)?</summary>
    public bool Knows(string caseId)
    {
        lock (_gate) return _byId.ContainsKey(caseId);
    }

    /// <summary>Another node saw the case later than this one knew (a cluster's shared feed): it is not gone yet.</summary>
    public bool Touch(string caseId, DateTimeOffset lastSeen)
    {
        lock (_gate)
        {
            if (!_byId.TryGetValue(caseId, out var c) || c.Closed || lastSeen <= c.LastSeen) return false;
            c.LastSeen = lastSeen;
            return true;
        }
    }

    /// <summary>Is this case decided here but not yet committed by the store? False for stored and unknown cases.</summary>
    public bool IsWaiting(string caseId)
    {
        lock (_gate) return _byId.TryGetValue(caseId, out var c) && !c.Stored;
    }

    /// <summary>
    /// Rolls back a new case the store refused for good (not a storage fault: it would never be stored): it is forgotten,
    /// so a later sighting there is a new case rather than a sighting of one that does not exist. False when unknown or stored.
    /// </summary>
    public bool Drop(string caseId)
    {
        lock (_gate)
        {
            if (!_byId.TryGetValue(caseId, out var c) || c.Stored) return false;
            _byId.Remove(caseId);
            _cases.Remove(c);
            _gone.RemoveAll(g => g.CaseId == caseId);
            return true;
        }
    }

    /// <summary>Convenience for a ground-mapped place with no image point.</summary>
    public SiteDecision Decide(string caseType, GeoPoint place, DateTimeOffset at, string cameraId, float confidence = 0, double frameShare = 0) =>
        Decide(new Sighting(caseType, place, PlaceKind.Ground, at, cameraId, confidence, frameShare));

    /// <summary>
    /// Is this sighting a new case, an open case seen again, or at a place that is cooling down?
    /// An open case wins over a cooling one; among several, the nearest (then the earliest raised).
    /// </summary>
    public SiteDecision Decide(in Sighting s)
    {
        lock (_gate)
        {
            if (s.At > _now) _now = s.At;
            Forget(_now);

            var open = Nearest(s, Wanted.OpenInWindow, out var openDistance);
            var cooling = open is null ? Nearest(s, Wanted.Cooling, out _) : null;

            if (open is not null)
            {
                Seen(open, s);
                if (s.PlaceKind < open.PlaceKind) { open.Place = s.Place; open.PlaceKind = s.PlaceKind; }   // a more precise place
                var better = IsBetter(open, s);
                if (better) open.TakeEvidence(s);
                return new SameSiteCase(open.Id, better, openDistance);
            }

            if (cooling is not null)
                return new SiteCooldown(cooling.Id, Add(cooling.ClosedAt, cooling.CooldownLength), cooling.Rejected);

            var id = CaseIdFor(s);
            for (var n = 2; _byId.ContainsKey(id); n++) id = $"{CaseIdFor(s)}-{n}";
            var fresh = new SiteCase(id, s.CaseType, s.Place, s.PlaceKind, s.At);
            if (s.ImagePoint is { } q) fresh.ImagePoints[s.CameraId] = q;
            fresh.TakeEvidence(s);
            _cases.Add(fresh);
            _byId.Add(id, fresh);
            return new NewSiteCase(id);
        }
    }

    /// <summary>
    /// A sighting that may only keep an open case alive (a static object reported once): the open case of its type at its
    /// place is seen again, and nothing else happens (no new case, no better picture). Null when none is open there.
    /// </summary>
    public string? KeepAlive(in Sighting s)
    {
        lock (_gate)
        {
            if (s.At > _now) _now = s.At;
            Forget(_now);
            if (Nearest(s, Wanted.Open, out _) is not { } open) return null;
            Seen(open, s);
            return open.Id;
        }
    }

    /// <summary>
    /// Dispatch closed (handled) or rejected (false alarm) the case: its place cools down for
    /// <see cref="SiteDedupOptions.Cooldown"/> or <see cref="SiteDedupOptions.RejectCooldown"/> from <paramref name="at"/>,
    /// which must be on the capture-time clock (for live cameras close to the wall clock; <see cref="Now"/> is "as of the
    /// latest frame"). False when the case is not remembered (forgotten, or never raised here) or already closed.
    /// </summary>
    public bool Close(string caseId, DateTimeOffset at, bool rejected)
    {
        lock (_gate)
        {
            if (!_byId.TryGetValue(caseId, out var c) || c.Closed) return false;
            c.Closed = true;
            c.Rejected = rejected;
            c.ClosedAt = at;
            c.CooldownLength = rejected ? _options.RejectCooldown : _options.Cooldown;
            return true;
        }
    }

    /// <summary>
    /// Re-seeds memory with a case raised before a restart: open, or (closed/rejected with a close time) cooling down.
    /// <paramref name="place"/>: where it is; null = the case's own latitude/longitude as <paramref name="kind"/>.
    /// </summary>
    /// <param name="foreign">Raised by another node of a cluster: this node closes it as gone only after twice the window
    /// unseen (its owner, whose cameras see it, closes it first; this is for an owner that died).</param>
    public void Remember(Case c, GeoPoint? place = null, PlaceKind kind = PlaceKind.Camera, bool foreign = false)
    {
        lock (_gate)
        {
            if (_byId.Remove(c.Id, out var old)) _cases.Remove(old);
            var entry = new SiteCase(c.Id, c.CaseType, place ?? new GeoPoint(c.Latitude, c.Longitude), kind, c.LastSeen) { Stored = true, Foreign = foreign };
            var share = c.ImageWidth > 0 && c.ImageHeight > 0 ? c.Box.Area / ((double)c.ImageWidth * c.ImageHeight) : 0;
            entry.TakeEvidence(new Sighting(c.CaseType, entry.Place, kind, c.LastSeen, c.CameraId, c.Confidence, share));
            if (c.ImageWidth > 0 && c.ImageHeight > 0) entry.ImagePoints[c.CameraId] = c.Box.BottomCentre(c.ImageWidth, c.ImageHeight);
            if (c.State.IsFinal() && c.ClosedAt is { } closedAt)
            {
                entry.Closed = true;
                entry.Rejected = c.State == CaseState.Rejected;
                entry.ClosedAt = closedAt;
                entry.CooldownLength = entry.Rejected ? _options.RejectCooldown : _options.Cooldown;
            }
            _cases.Add(entry);
            _byId.Add(c.Id, entry);
        }
    }

    /// <summary>Stable across replays: the same sighting (camera, type, capture time, place) gets the same id.</summary>
    public static string CaseIdFor(in Sighting s)
    {
        var key = string.Create(CultureInfo.InvariantCulture,
            $"site|{s.CameraId}|{s.CaseType}|{s.At.UtcTicks}|{s.Place.Latitude:R},{s.Place.Longitude:R}");
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        return $"cs-{s.At.UtcDateTime:yyyyMMdd}-{Convert.ToHexStringLower(hash, 0, 6)}";
    }

    /// <summary>
    /// Open cases whose object has been gone for the window, closed here since the last call, oldest first; the caller
    /// records the closure (the case store). Each case is given once.
    /// </summary>
    public IReadOnlyList<GoneCase> TakeGone()
    {
        lock (_gate)
        {
            if (_gone.Count == 0) return [];
            var taken = _gone.ToArray();
            _gone.Clear();
            return taken;
        }
    }

    /// <summary>
    /// Advances "now" without a sighting (e.g. a frame with nothing on it), so that cases gone meanwhile are closed on
    /// time even when no hit of their type arrives.
    /// </summary>
    public void Advance(DateTimeOffset now)
    {
        lock (_gate)
        {
            if (now <= _now) return;
            _now = now;
            Forget(now);
        }
    }

    private void Forget(DateTimeOffset now)
    {
        foreach (var c in _cases)
        {
            if (c.Closed || now - c.LastSeen <= (c.Foreign ? _options.Window * 2 : _options.Window)) continue;
            c.Closed = true;
            c.ClosedAt = Add(c.LastSeen, _options.Window);
            c.CooldownLength = _options.Cooldown;
            _gone.Add(new GoneCase(c.Id, c.LastSeen, c.ClosedAt));
        }
        _cases.RemoveAll(c =>
        {
            var forgotten = c.Closed && now - c.ClosedAt >= c.CooldownLength;
            if (forgotten) _byId.Remove(c.Id);
            return forgotten;
        });
    }

    private enum Wanted { Open, OpenInWindow, Cooling }

    /// <summary>The nearest case of the sighting's type at its place in the wanted state (image matches count as nearest).</summary>
    private SiteCase? Nearest(in Sighting s, Wanted wanted, out double distance)
    {
        SiteCase? best = null;
        var bestKey = double.PositiveInfinity;
        distance = double.NaN;
        foreach (var c in _cases)
        {
            var fits = wanted switch
            {
                Wanted.Open => !c.Closed,
                // A late frame can see a case Forget has not yet dropped.
                Wanted.OpenInWindow => !c.Closed && s.At - c.LastSeen <= _options.Window,
                _ => c.Closed && s.At - c.ClosedAt < c.CooldownLength,
            };
            if (!fits || !string.Equals(c.CaseType, s.CaseType, StringComparison.Ordinal) || !SamePlace(c, s, out var d)) continue;
            var key = double.IsNaN(d) ? 0 : d;   // matched on the image: as near as can be
            if (best is null || key < bestKey) { best = c; bestKey = key; distance = d; }
        }
        return best;
    }

    private static void Seen(SiteCase c, in Sighting s)
    {
        if (s.At > c.LastSeen) c.LastSeen = s.At;
        if (s.ImagePoint is { } p) c.ImagePoints[s.CameraId] = p;
    }

    private bool SamePlace(SiteCase c, in Sighting s, out double distance)
    {
        distance = double.NaN;
        // Where the sighting's place is only its camera's position (or nothing), that camera's image tells its own hits apart.
        if (s.PlaceKind != PlaceKind.Ground && s.ImagePoint is { } p && c.ImagePoints.TryGetValue(s.CameraId, out var q))
        {
            var dx = p.X - q.X;
            var dy = p.Y - q.Y;
            return Math.Sqrt(dx * dx + dy * dy) <= _options.SameCameraImageDistance;
        }
        if (s.PlaceKind == PlaceKind.Unknown || c.PlaceKind == PlaceKind.Unknown)
            return s.PlaceKind == PlaceKind.Unknown && s.ImagePoint is null && c.ImagePoints.ContainsKey(s.CameraId);
        distance = GroundMapping.DistanceMetres(c.Place, s.Place);
        return distance <= _options.SamePlaceRadiusMetres;
    }

    private bool IsBetter(SiteCase c, in Sighting s)
    {
        var gain = 1 + _options.BetterEvidenceMargin;
        if (s.FrameShare > 0 && c.BestFrameShare > 0)
            return s.Confidence * Math.Sqrt(s.FrameShare) > c.BestConfidence * Math.Sqrt(c.BestFrameShare) * gain;
        return s.Confidence > c.BestConfidence * gain;   // size unknown on one side: confidence alone
    }

    private static DateTimeOffset Add(DateTimeOffset t, TimeSpan d) =>
        d >= DateTimeOffset.MaxValue - t ? DateTimeOffset.MaxValue : t + d;

    private sealed class SiteCase(string id, string caseType, GeoPoint place, PlaceKind placeKind, DateTimeOffset lastSeen)
    {
        public string Id { get; } = id;
        public string CaseType { get; } = caseType;
        public GeoPoint Place { get; set; } = place;
        public PlaceKind PlaceKind { get; set; } = placeKind;
        public DateTimeOffset LastSeen { get; set; } = lastSeen;
        /// <summary>The last foot point each camera saw it at (for cameras whose place is only their position).</summary>
        public Dictionary<string, NormalisedPoint> ImagePoints { get; } = new(StringComparer.Ordinal);
        public float BestConfidence { get; private set; }
        public double BestFrameShare { get; private set; }
        public bool Closed { get; set; }
        /// <summary>Committed by the store; false from <see cref="Decide"/> until <see cref="MarkStored"/>.</summary>
        public bool Stored { get; set; }
        public bool Rejected { get; set; }
        /// <summary>Raised by another node of a cluster (learned from the shared feed), not by a camera of this one.</summary>
        public bool Foreign { get; set; }
        public DateTimeOffset ClosedAt { get; set; }
        public TimeSpan CooldownLength { get; set; }

        public void TakeEvidence(in Sighting s)
        {
            BestConfidence = s.Confidence;
            BestFrameShare = s.FrameShare;
        }
    }
}
