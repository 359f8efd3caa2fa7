using System.Security.Cryptography;
using System.Text;
using CitySight.Domain;
using Prometheus;

namespace CitySight.Rules;

/// <summary>
/// Turns one camera's detected frames into case decisions, on frame time only (never the wall clock),
/// so a file replayed faster than real time gives the same cases.
/// Not thread-safe: one instance per camera, fed in capture-time order.
/// </summary>
public sealed class CameraRules
{
    private static readonly Counter Hits = Metrics.CreateCounter(
        "citysight_hits_total", "Detections confirmed over consecutive samples inside a zone.", "case_type");

    private readonly Camera _camera;
    private readonly RuleOptions _options;
    private readonly List<Candidate> _candidates = [];
    private readonly List<OpenCase> _open = [];
    private readonly List<CaseDecision> _decisions = [];

    public CameraRules(Camera camera, RuleOptions options)
    {
        _camera = camera;
        _options = options;
    }

    /// <summary>Cases still open in memory (for inspection and tests).</summary>
    public int OpenCases => _open.Count;

    /// <summary>Re-seeds dedup memory with a case raised before a restart, so it is not raised again.</summary>
    public void Remember(Case c) =>
        _open.Add(new OpenCase(c.Id, c.CaseType, c.Box, c.LastSeen, c.Confidence, c.LastSeen));

    /// <summary>Evaluates one frame. The returned list is reused by the next call.</summary>
    public IReadOnlyList<CaseDecision> Evaluate(DetectedFrame detected)
    {
        _decisions.Clear();
        var frame = detected.Frame;
        var now = frame.CaptureTime;
        _open.RemoveAll(c => now - c.LastSeen > _options.DedupWindow);

        foreach (var c in _candidates) c.MatchedThisFrame = false;

        foreach (var d in detected.Detections)
        {
            if (d.CaseType is not { } type || d.Confidence < _options.MinConfidence) continue;
            if (_camera.Detectors.Count > 0 && !_camera.Detectors.Contains(type)) continue;
            if (_camera.ZoneFor(type, d.Box.BottomCentre(frame.Width, frame.Height)) is not { } zone) continue;

            var candidate = BestMatch(_candidates, type, d.Box, c => !c.MatchedThisFrame, c => c.Box);
            if (candidate is null)
            {
                candidate = new Candidate(type, zone, d.ClassName, now);
                _candidates.Add(candidate);
            }
            candidate.See(d);
        }

        // Consecutive means consecutive: an object missing from one sample starts over.
        _candidates.RemoveAll(c => !c.MatchedThisFrame);

        foreach (var c in _candidates)
        {
            if (c.Count < _options.ConfirmSamples) continue;
            var hit = new Hit(_camera.Id, c.CaseType, c.Zone, c.Box, c.Confidence, c.FirstSeen, now, c.ClassName);
            if (c.Count == _options.ConfirmSamples) Hits.WithLabels(c.CaseType).Inc();

            var open = BestMatch(_open, c.CaseType, c.Box, _ => true, o => o.Box);
            if (open is null)
            {
                var id = CaseIdFor(hit);
                _open.Add(new OpenCase(id, c.CaseType, c.Box, now, c.Confidence, now));
                _decisions.Add(new CaseOpened(id, hit));
                continue;
            }

            var better = c.Confidence > open.BestConfidence;
            open.LastSeen = now;
            open.Box = c.Box;
            if (better) open.BestConfidence = c.Confidence;
            if (better || now - open.LastReported >= _options.SightingInterval)
            {
                open.LastReported = now;
                _decisions.Add(new CaseSighted(open.Id, hit, better));
            }
        }
        return _decisions;
    }

    private T? BestMatch<T>(List<T> items, string type, Box box, Func<T, bool> eligible, Func<T, Box> boxOf)
        where T : class, ITyped
    {
        T? best = null;
        var bestIoU = _options.SameObjectIoU;
        foreach (var item in items)
        {
            if (item.CaseType != type || !eligible(item)) continue;
            var iou = boxOf(item).IoU(box);
            if (iou >= bestIoU) { best = item; bestIoU = iou; }
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

    private interface ITyped { string CaseType { get; } }

    private sealed class Candidate(string caseType, string zone, string className, DateTimeOffset firstSeen) : ITyped
    {
        public string CaseType { get; } = caseType;
        public string Zone { get; } = zone;
        public string ClassName { get; private set; } = className;
        public DateTimeOffset FirstSeen { get; } = firstSeen;
        public Box Box { get; private set; }
        public float Confidence { get; private set; }
        public int Count { get; private set; }
        public bool MatchedThisFrame { get; set; }

        public void See(in Detection d)
        {
            Box = d.Box;
            Confidence = d.Confidence;
            ClassName = d.ClassName;
            Count++;
            MatchedThisFrame = true;
        }
    }

    private sealed class OpenCase(string id, string caseType, Box box, DateTimeOffset lastSeen, float bestConfidence, DateTimeOffset lastReported) : ITyped
    {
        public string Id { get; } = id;
        public string CaseType { get; } = caseType;
        public Box Box { get; set; } = box;
        public DateTimeOffset LastSeen { get; set; } = lastSeen;
        public float BestConfidence { get; set; } = bestConfidence;
        public DateTimeOffset LastReported { get; set; } = lastReported;
    }
}
