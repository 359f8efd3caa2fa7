using CitySight.Domain;

namespace CitySight.Tracking;

/// <summary>
/// Multi-object tracking for one camera, built for low sampling rates (seconds between samples): ByteTrack-style
/// two-stage association on IoU against a constant-velocity prediction scaled by the real time between samples,
/// with a motion gate for objects that no longer overlap their last box, and a measure of how long each object
/// has been still (for dwell rules).
/// Runs on capture time only (never the wall clock), so a replay gives the same ids and states.
/// Not thread-safe: one instance per camera, fed in capture-time order. Allocates nothing per update in steady
/// state (a new track costs one object).
/// </summary>
public sealed class CameraTracker
{
    private readonly TrackerOptions _o;
    private readonly List<TrackedObject> _tracks = [];
    private readonly List<Track> _live = [];
    private readonly List<Track> _removed = [];
    private readonly Dictionary<string, float> _radii = new(StringComparer.Ordinal);
    private long _lastId;
    private DateTimeOffset? _lastTime;

    // Per-update scratch, grown as needed and reused.
    private int[] _high = new int[16];
    private int[] _low = new int[16];
    private bool[] _taken = new bool[16];
    private Pair[] _pairs = new Pair[64];

    public CameraTracker(TrackerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ConfirmHits < 1) throw new ArgumentOutOfRangeException(nameof(options), "ConfirmHits must be at least 1");
        if (options.LowConfidence > options.HighConfidence)
            throw new ArgumentOutOfRangeException(nameof(options), "LowConfidence must not exceed HighConfidence");
        _o = options;
    }

    public TrackerOptions Options => _o;

    /// <summary>Confirmed tracks removed by the latest update (lost too long, or the clock went back), as last known.
    /// The rules close what they hold for these. Reused by the next update.</summary>
    public IReadOnlyList<Track> Removed => _removed;

    /// <summary>
    /// Takes one sample's detections and returns every confirmed track still kept: Confirmed ones were matched on this
    /// sample, Lost ones were not (occluded or missed) but may come back under the same id. Tentative tracks are never
    /// returned. Order is stable (creation order). The list is reused by the next call: read it with a for loop
    /// (foreach over the interface boxes an enumerator) and copy what you keep.
    /// </summary>
    /// <param name="time">The sample's capture time. An earlier time than the previous call's (a stream restart)
    /// drops every track (reported in <see cref="Removed"/>); ids keep counting up.</param>
    public IReadOnlyList<Track> Update(DateTimeOffset time, IReadOnlyList<Detection> detections, int imageWidth, int imageHeight)
    {
        _live.Clear();
        _removed.Clear();
        if (_lastTime is { } last && time < last) DropAll();
        _lastTime = time;

        var n = detections.Count;
        EnsureCapacity(n);
        var highCount = 0;
        var lowCount = 0;
        for (var i = 0; i < n; i++)
        {
            _taken[i] = false;
            var d = detections[i];
            if (d.CaseType is null && !_o.TrackAllClasses) continue;
            if (d.Box.Area <= 0) continue;
            if (d.Confidence >= _o.HighConfidence) _high[highCount++] = i;
            else if (d.Confidence >= _o.LowConfidence) _low[lowCount++] = i;
        }

        for (var t = 0; t < _tracks.Count; t++) Predict(_tracks[t], time);

        // ByteTrack: confident detections against every track (motion gate allowed), then the weak ones only keep
        // confirmed tracks alive, on overlap alone since a weak box far from the prediction is more likely noise.
        Associate(detections, _high, highCount, lowStage: false);
        Associate(detections, _low, lowCount, lowStage: true);

        var keep = 0;
        for (var i = 0; i < _tracks.Count; i++)
        {
            var t = _tracks[i];
            if (t.MatchedDetection >= 0)
            {
                Apply(t, detections[t.MatchedDetection], time, imageHeight);
            }
            else if (t.State == TrackState.Tentative)
            {
                continue; // an unconfirmed track must be seen on consecutive samples
            }
            else
            {
                t.State = TrackState.Lost;
                t.Misses++;
                var maxLost = t.Stationary && _o.StationaryMaxLostTime > _o.MaxLostTime ? _o.StationaryMaxLostTime : _o.MaxLostTime;
                if (time - t.LastSeen > maxLost && t.Misses >= _o.MinLostSamples)
                {
                    _removed.Add(t.Snapshot());
                    continue;
                }
            }
            _tracks[keep++] = t;
        }
        if (keep < _tracks.Count) _tracks.RemoveRange(keep, _tracks.Count - keep);

        for (var k = 0; k < highCount; k++)
        {
            var i = _high[k];
            if (_taken[i]) continue;
            var d = detections[i];
            if (IsDuplicate(detections, n, d)) continue;
            _taken[i] = true;
            _tracks.Add(Start(d, time));
        }

        for (var i = 0; i < _tracks.Count; i++)
        {
            var t = _tracks[i];
            t.MatchedDetection = -1;
            if (t.State != TrackState.Tentative) _live.Add(t.Snapshot());
        }
        return _live;
    }

    private void Predict(TrackedObject t, DateTimeOffset time)
    {
        t.MatchedDetection = -1;
        t.Dt = (float)Math.Max(0, (time - t.LastSeen).TotalSeconds);
        // A still object is expected where it has been on average, not at its last (maybe outlier) box.
        if (t.Stationary) { t.Predicted = t.MeanBox; return; }
        if (!t.HasVelocity || t.Dt == 0) { t.Predicted = t.Box; return; }
        var dx = t.Vx * t.Dt;
        var dy = t.Vy * t.Dt;
        var cap = _o.MaxPredictionSizes * MathF.Max(t.Box.Width, t.Box.Height);
        var len = MathF.Sqrt(dx * dx + dy * dy);
        if (len > cap) { dx *= cap / len; dy *= cap / len; }
        var b = t.Box;
        t.Predicted = new Box(b.X1 + dx, b.Y1 + dy, b.X2 + dx, b.Y2 + dy);
    }

    /// <summary>Greedy assignment: all gated pairs sorted by cost (overlap before distance), taken best first.
    /// With few objects per camera and costs this separated, it picks what Hungarian would in practice.</summary>
    private void Associate(IReadOnlyList<Detection> detections, int[] indices, int count, bool lowStage)
    {
        if (count == 0 || _tracks.Count == 0) return;
        var pairs = 0;
        for (var ti = 0; ti < _tracks.Count; ti++)
        {
            var t = _tracks[ti];
            if (t.MatchedDetection >= 0) continue;
            if (lowStage && t.State == TrackState.Tentative) continue;
            for (var k = 0; k < count; k++)
            {
                var di = indices[k];
                if (_taken[di]) continue;
                if (!TryCost(t, detections[di], allowMotion: !lowStage, out var cost)) continue;
                if (pairs == _pairs.Length) Array.Resize(ref _pairs, _pairs.Length * 2);
                _pairs[pairs++] = new Pair(cost, ti, di);
            }
        }
        if (pairs == 0) return;
        _pairs.AsSpan(0, pairs).Sort(PairOrder);
        for (var p = 0; p < pairs; p++)
        {
            var (_, ti, di) = _pairs[p];
            var t = _tracks[ti];
            if (t.MatchedDetection >= 0 || _taken[di]) continue;
            t.MatchedDetection = di;
            _taken[di] = true;
        }
    }

    /// <summary>Cost in [0,1) for an overlap match (1 − IoU), in [1,2] for a motion-gate match, so overlap always wins.</summary>
    private bool TryCost(TrackedObject t, in Detection d, bool allowMotion, out float cost)
    {
        cost = 0;
        if (!SameFamily(t, d)) return false;
        var r2 = _o.MaxSizeRatio * _o.MaxSizeRatio;
        var ta = t.Box.Area;
        var da = d.Box.Area;
        if (da > ta * r2 || ta > da * r2) return false;

        var iou = t.Predicted.IoU(d.Box);
        if (iou >= _o.MinIoU) { cost = 1 - iou; return true; }

        // A still object does not jump: without this a parked car missed on one sample takes whatever passes it.
        if (!allowMotion || t.Stationary) return false;
        var gate = MathF.Max(t.Box.Width, t.Box.Height) * MathF.Min(_o.GateMax, _o.GateBase + _o.GatePerSecond * t.Dt);
        var p = t.Predicted;
        var dx = (d.Box.X1 + d.Box.X2 - p.X1 - p.X2) / 2;
        var dy = (d.Box.Y1 + d.Box.Y2 - p.Y1 - p.Y2) / 2;
        var dist = MathF.Sqrt(dx * dx + dy * dy);
        if (gate <= 0 || dist > gate) return false;
        cost = 1 + dist / gate;
        return true;
    }

    private static bool SameFamily(TrackedObject t, in Detection d) =>
        t.CaseType is null
            ? d.CaseType is null && d.ClassId == t.ClassId
            : string.Equals(t.CaseType, d.CaseType, StringComparison.Ordinal);

    private bool IsDuplicate(IReadOnlyList<Detection> detections, int n, in Detection d)
    {
        for (var j = 0; j < n; j++)
        {
            if (!_taken[j]) continue;
            var o = detections[j];
            var same = d.CaseType is null
                ? o.CaseType is null && o.ClassId == d.ClassId
                : string.Equals(d.CaseType, o.CaseType, StringComparison.Ordinal);
            if (same && o.Box.IoU(d.Box) >= _o.DuplicateIoU) return true;
        }
        return false;
    }

    private TrackedObject Start(in Detection d, DateTimeOffset time)
    {
        var t = new TrackedObject
        {
            State = TrackState.Tentative,
            CaseType = d.CaseType,
            ClassId = d.ClassId,
            ClassName = d.ClassName,
            Box = d.Box,
            Confidence = d.Confidence,
            FirstSeen = time,
            LastSeen = time,
            Hits = 1,
            BestConfidence = d.Confidence,
            BestSeen = time,
            BestBox = d.Box,
        };
        BeginStill(t, d.Box, time);
        if (_o.ConfirmHits <= 1) Confirm(t);
        return t;
    }

    private void Apply(TrackedObject t, in Detection d, DateTimeOffset time, int imageHeight)
    {
        if (t.Dt > 0)
        {
            var vx = ((d.Box.X1 + d.Box.X2) - (t.Box.X1 + t.Box.X2)) / 2 / t.Dt;
            var vy = ((d.Box.Y1 + d.Box.Y2) - (t.Box.Y1 + t.Box.Y2)) / 2 / t.Dt;
            if (t.HasVelocity)
            {
                var a = _o.VelocitySmoothing;
                t.Vx = a * vx + (1 - a) * t.Vx;
                t.Vy = a * vy + (1 - a) * t.Vy;
            }
            else
            {
                t.Vx = vx;
                t.Vy = vy;
                t.HasVelocity = true;
            }
        }

        UpdateStill(t, d.Box, time, imageHeight);

        t.Box = d.Box;
        t.Confidence = d.Confidence;
        t.ClassId = d.ClassId;
        t.ClassName = d.ClassName;
        t.LastSeen = time;
        t.Hits++;
        t.Misses = 0;
        // An outlier sighting of a still object (someone passing in front) is not the evidence to keep.
        if (d.Confidence > t.BestConfidence && t.Outside == 0)
        {
            t.BestConfidence = d.Confidence;
            t.BestSeen = time;
            t.BestBox = d.Box;
        }

        if (t.State == TrackState.Tentative)
        {
            if (t.Hits >= _o.ConfirmHits) Confirm(t);
        }
        else
        {
            t.State = TrackState.Confirmed;
        }
    }

    private void Confirm(TrackedObject t)
    {
        t.State = TrackState.Confirmed;
        t.Id = ++_lastId;
    }

    private float RadiusFor(string? caseType)
    {
        if (caseType is null || _o.StationaryRadiusFor is null) return _o.StationaryRadius;
        if (!_radii.TryGetValue(caseType, out var r)) _radii[caseType] = r = _o.StationaryRadiusFor(caseType) ?? _o.StationaryRadius;
        return r;
    }

    private static void BeginStill(TrackedObject t, Box b, DateTimeOffset time)
    {
        t.MeanX1 = b.X1; t.MeanY1 = b.Y1; t.MeanX2 = b.X2; t.MeanY2 = b.Y2;
        t.StillCount = 1;
        t.StillSince = time;
        t.StillLastInside = time;
        t.Stationary = false;
        t.Outside = 0;
    }

    private void UpdateStill(TrackedObject t, Box b, DateTimeOffset time, int imageHeight)
    {
        var radius = MathF.Max(RadiusFor(t.CaseType) * (t.MeanY2 - t.MeanY1), _o.StationaryMinRadius * imageHeight);
        var dx = (b.X1 + b.X2 - t.MeanX1 - t.MeanX2) / 2;
        var dy = b.Y2 - t.MeanY2;
        if (dx * dx + dy * dy > radius * radius)
        {
            if (++t.Outside >= _o.StationaryExitSamples) BeginStill(t, b, time);
            return;
        }

        t.Outside = 0;
        t.StillCount++;
        // Running mean, turning into a moving average after a while so it follows a slow settle of the boxes.
        var w = 1f / Math.Min(t.StillCount, 64);
        t.MeanX1 += (b.X1 - t.MeanX1) * w;
        t.MeanY1 += (b.Y1 - t.MeanY1) * w;
        t.MeanX2 += (b.X2 - t.MeanX2) * w;
        t.MeanY2 += (b.Y2 - t.MeanY2) * w;
        t.StillLastInside = time;
        if (!t.Stationary && t.StillLastInside - t.StillSince >= _o.MinStationaryTime) t.Stationary = true;
    }

    private void DropAll()
    {
        for (var i = 0; i < _tracks.Count; i++)
        {
            var t = _tracks[i];
            if (t.State == TrackState.Tentative) continue;
            t.State = TrackState.Lost;
            _removed.Add(t.Snapshot());
        }
        _tracks.Clear();
    }

    private void EnsureCapacity(int n)
    {
        if (_taken.Length >= n) return;
        var size = Math.Max(n, _taken.Length * 2);
        _high = new int[size];
        _low = new int[size];
        _taken = new bool[size];
    }

    private readonly record struct Pair(float Cost, int Track, int Detection);

    // A total order (ties broken by track then detection index), so the greedy pick is deterministic. A cached
    // delegate: Sort with a struct IComparer boxes it on every call.
    private static readonly Comparison<Pair> PairOrder = static (a, b) =>
    {
        var c = a.Cost.CompareTo(b.Cost);
        if (c != 0) return c;
        c = a.Track.CompareTo(b.Track);
        return c != 0 ? c : a.Detection.CompareTo(b.Detection);
    };
}
