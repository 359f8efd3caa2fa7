using CitySight.Cases;
using CitySight.CommandCentre.Api;
using CitySight.Domain;

namespace CitySight.CommandCentre;

/// <summary>Dispatch's outcome figures from the cases that ended in a window (<see cref="ICaseRecords.DecidedAsync"/>).</summary>
internal static class OutcomeFigureMaker
{
    public static OutcomeWindow Window(DateTimeOffset from, IEnumerable<CaseDecision> decisions)
    {
        var inWindow = decisions.Where(d => d.ClosedAt >= from).ToList();
        return new OutcomeWindow(from, Figures(inWindow),
            inWindow.GroupBy(d => d.CaseType).ToDictionary(g => g.Key, Figures),
            inWindow.GroupBy(d => d.GroupId).ToDictionary(g => g.Key, Figures));
    }

    public static OutcomeFigures Figures(IEnumerable<CaseDecision> decisions)
    {
        var accepted = new List<double>();
        int rejected = 0, byCitySight = 0;
        foreach (var d in decisions)
        {
            if (d.State == CaseState.Rejected) rejected++;
            else if (d.ClosedByCitySight) byCitySight++;
            else accepted.Add(Math.Max(0, d.TimeToClose.TotalMinutes));
        }
        var decided = accepted.Count + rejected;
        accepted.Sort();
        return new OutcomeFigures(accepted.Count, rejected, byCitySight,
            decided == 0 ? null : (double)accepted.Count / decided,
            decided == 0 ? null : (double)rejected / decided,
            NearestRank(accepted, 0.5), NearestRank(accepted, 0.9));
    }

    /// <summary>The smallest value with at least <paramref name="p"/> of the sorted values at or below it; null when none.</summary>
    public static double? NearestRank(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? null : Math.Round(sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Count) - 1)], 1);
}
