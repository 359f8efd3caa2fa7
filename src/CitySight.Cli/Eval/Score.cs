using CitySight.Domain;

namespace CitySight.Cli.Eval;

/// <summary>Precision = matched cases / cases; recall = matched events / events; a second case on a matched event is a duplicate.</summary>
public sealed record Score(int Cases, int Events, int MatchedCases, int MatchedEvents, int Duplicates, int UnmatchedCases)
{
    /// <summary>1 when there is nothing to be wrong about (no cases: nothing raised falsely; no events: nothing missed).</summary>
    public double Precision => Cases == 0 ? 1 : (double)MatchedCases / Cases;
    public double Recall => Events == 0 ? 1 : (double)MatchedEvents / Events;
    public bool Perfect => MatchedEvents == Events && Duplicates == 0 && UnmatchedCases == 0;

    public static Score Total(IEnumerable<ScenarioResult> results)
    {
        var list = results.Select(r => r.Score).ToList();
        return new Score(list.Sum(x => x.Cases), list.Sum(x => x.Events), list.Sum(x => x.MatchedCases), list.Sum(x => x.MatchedEvents),
            list.Sum(x => x.Duplicates), list.Sum(x => x.UnmatchedCases));
    }

    /// <summary>
    /// Cases in the order they were raised; each goes to the first event (in file order) it fits that is not matched
    /// yet, else to a matched one it fits (a duplicate), else nowhere. A duplicate counts as a matched case for
    /// precision (it is not a false alarm) and is counted apart.
    /// </summary>
    public static ScenarioResult Match(Scenario s, IReadOnlyList<Case> cases, IReadOnlyDictionary<string, DateTimeOffset> anchors, double wallSeconds)
    {
        var matchedBy = s.Expected.ToDictionary(e => e.Index, _ => new List<string>());
        var scored = new List<ScoredCase>();
        var timed = cases.Select(c => (Case: c, Raised: ScenarioRunner.RaisedAt(c) - anchors.GetValueOrDefault(c.CameraId)))
            .OrderBy(x => x.Raised).ThenBy(x => x.Case.Sequence);
        int dup = 0, unmatched = 0, matched = 0;
        foreach (var (c, raised) in timed)
        {
            var w = Math.Max(1, c.ImageWidth);
            var h = Math.Max(1, c.ImageHeight);
            var nb = new[] { c.Box.X1 / (double)w, c.Box.Y1 / (double)h, c.Box.X2 / (double)w, c.Box.Y2 / (double)h };
            var fits = s.Expected.Where(e => e.Type == c.CaseType && e.Cameras.Contains(c.CameraId)
                                             && Distance(nb, e.X, e.Y) <= ScenarioRunner.Tolerance
                                             && raised >= e.From && raised <= e.Until).ToList();
            var fresh = fits.FirstOrDefault(e => matchedBy[e.Index].Count == 0);
            var hit = fresh ?? fits.FirstOrDefault();
            var isDup = fresh is null && hit is not null;
            if (hit is null) unmatched++;
            else
            {
                matched++;
                matchedBy[hit.Index].Add(c.Id);
                if (isDup) dup++;
            }
            scored.Add(new ScoredCase(c.Id, c.CaseType, c.CameraId, Math.Round(raised.TotalSeconds, 3),
                Math.Round((c.FirstSeen - anchors.GetValueOrDefault(c.CameraId)).TotalSeconds, 3),
                [c.Box.X1, c.Box.Y1, c.Box.X2, c.Box.Y2], nb.Select(v => Math.Round(v, 4)).ToArray(), c.Confidence, c.ClassName, hit?.Index, isDup));
        }
        var events = s.Expected.Select(e => new ScoredEvent(e.Index, e.Type, e.Cameras, [e.X, e.Y], e.From.TotalSeconds, e.Until.TotalSeconds, matchedBy[e.Index])).ToList();
        var score = new Score(cases.Count, s.Expected.Count, matched, events.Count(e => e.Cases.Count > 0), dup, unmatched);
        return new ScenarioResult(s.Name, s.Folder, Math.Round(wallSeconds, 2), score, scored, events);
    }

    /// <summary>0 when the point is inside the box, else how far outside it (normalised image units).</summary>
    private static double Distance(double[] b, double x, double y)
    {
        var dx = Math.Max(Math.Max(b[0] - x, 0), x - b[2]);
        var dy = Math.Max(Math.Max(b[1] - y, 0), y - b[3]);
        return Math.Sqrt(dx * dx + dy * dy);
    }
}
