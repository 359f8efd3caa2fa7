using CitySight.Domain;

namespace CitySight.Eval;

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
    /// Pairs cases with events one to one so that as many events as possible are matched (a maximum matching; among
    /// equal ones the earlier-raised case takes the earlier event, in file order). A case that fits an event but was
    /// not paired is a duplicate of the first event it fits; it counts as matched for precision (it is not a false
    /// alarm) and is counted apart. A case that fits no event is unmatched.
    /// </summary>
    public static ScenarioResult Match(Scenario s, IReadOnlyList<Case> cases, IReadOnlyDictionary<string, DateTimeOffset> anchors, double wallSeconds)
    {
        var timed = cases.Select(c => (Case: c, Raised: ScenarioRunner.RaisedAt(c) - anchors.GetValueOrDefault(c.CameraId)))
            .OrderBy(x => x.Raised).ThenBy(x => x.Case.Sequence).ToList();
        var boxes = timed.Select(x => Normalised(x.Case)).ToList();
        var fits = timed.Select((x, i) => s.Expected.Where(e => e.Type == x.Case.CaseType && e.Cameras.Contains(x.Case.CameraId)
                                                               && Distance(boxes[i], e.X, e.Y) <= ScenarioRunner.Tolerance
                                                               && x.Raised >= e.From && x.Raised <= e.Until).ToList()).ToList();

        // Kuhn's augmenting paths: the cases and events of one scenario are few.
        var caseOf = new Dictionary<int, int>();   // event index → case position
        for (var i = 0; i < timed.Count; i++) Augment(i, []);
        bool Augment(int i, HashSet<int> seen)
        {
            // A free event first, so an earlier case keeps the earlier event; only then move another case along.
            foreach (var e in fits[i])
            {
                if (caseOf.ContainsKey(e.Index) || !seen.Add(e.Index)) continue;
                caseOf[e.Index] = i;
                return true;
            }
            foreach (var e in fits[i])
            {
                if (!seen.Add(e.Index)) continue;
                if (!caseOf.TryGetValue(e.Index, out var other) || Augment(other, seen))
                {
                    caseOf[e.Index] = i;
                    return true;
                }
            }
            return false;
        }
        var eventOf = caseOf.ToDictionary(p => p.Value, p => p.Key);

        var matchedBy = s.Expected.ToDictionary(e => e.Index, _ => new List<string>());
        var scored = new List<ScoredCase>();
        int dup = 0, unmatched = 0, matched = 0;
        for (var i = 0; i < timed.Count; i++)
        {
            var (c, raised) = timed[i];
            int? hit = eventOf.TryGetValue(i, out var paired) ? paired : fits[i].Count > 0 ? fits[i][0].Index : null;
            var isDup = hit is not null && !eventOf.ContainsKey(i);
            if (hit is null) unmatched++;
            else
            {
                matched++;
                if (isDup) dup++;
            }
            scored.Add(EvalCaseJson.Of(c, raised, anchors.GetValueOrDefault(c.CameraId), boxes[i], hit, isDup));
        }
        // Each event lists its paired case first, then its duplicates in the order they were raised.
        foreach (var (e, i) in caseOf) matchedBy[e].Add(timed[i].Case.Id);
        foreach (var sc in scored.Where(x => x.Duplicate)) matchedBy[sc.Event!.Value].Add(sc.Id);
        var events = s.Expected.Select(e => new ScoredEvent(e.Index, e.Type, e.Cameras, [e.X, e.Y], e.From.TotalSeconds, e.Until.TotalSeconds, matchedBy[e.Index])).ToList();
        var score = new Score(cases.Count, s.Expected.Count, matched, caseOf.Count, dup, unmatched);
        return new ScenarioResult(s.Name, s.Folder, Math.Round(wallSeconds, 2), score, scored, events);
    }

    private static double[] Normalised(Case c)
    {
        var w = Math.Max(1, c.ImageWidth);
        var h = Math.Max(1, c.ImageHeight);
        return [c.Box.X1 / (double)w, c.Box.Y1 / (double)h, c.Box.X2 / (double)w, c.Box.Y2 / (double)h];
    }

    /// <summary>0 when the point is inside the box, else how far outside it (normalised image units).</summary>
    private static double Distance(double[] b, double x, double y)
    {
        var dx = Math.Max(Math.Max(b[0] - x, 0), x - b[2]);
        var dy = Math.Max(Math.Max(b[1] - y, 0), y - b[3]);
        return Math.Sqrt(dx * dx + dy * dy);
    }
}
