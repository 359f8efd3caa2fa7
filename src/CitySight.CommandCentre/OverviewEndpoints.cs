using CitySight.Cases;
using CitySight.CommandCentre.Api;
using Microsoft.AspNetCore.Http;

namespace CitySight.CommandCentre;

/// <summary>
/// The one screen's figures and the cameras. Every case figure is a query the store answers from its indexes (counts
/// by GROUP BY, the cases ended since a time): the overview never reads the whole store.
/// </summary>
internal static class OverviewEndpoints
{
    public static IResult Cameras(CommandCentreOptions options) => Results.Ok(options.Cameras());

    public static async Task<IResult> Overview(CommandCentreOptions options, ICaseRecords records, ICaseFeed feed, DetectorPace? detector,
        TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var midnight = LocalMidnight(now, options.TimeZone, 0);
        var weekStart = LocalMidnight(now, options.TimeZone, -6);
        var head = feed.LastSequence;
        var open = await records.CountAsync(CaseQuery.OpenStates, null, ct);
        var week = await records.CountAsync(null, weekStart, ct);
        var today = await records.CountAsync(null, midnight, ct);
        var decided = await records.DecidedAsync(weekStart, ct);
        var cameras = options.Cameras();
        return Results.Ok(new Overview
        {
            At = now,
            TimeZone = options.TimeZone.Id,
            Open = Counts(open),
            Today = Counts(today),
            Week = Counts(week),
            Cameras = cameras.Count,
            CamerasByState = cameras.GroupBy(c => c.State).ToDictionary(g => g.Key, g => g.Count()),
            // The newest name wins: open cells first, then the week's (a type renamed in the configuration shows its new name).
            Types = week.Concat(open).GroupBy(c => c.CaseType)
                .ToDictionary(g => g.Key, g => new CaseTypeName(g.Last().TypeNameZh, g.Last().TypeNameEn)),
            Groups = cameras.GroupBy(c => c.GroupId).ToDictionary(g => g.Key, g => g.First().GroupName),
            Detector = detector?.Read(),
            FeedHead = head,
            Delivery = feed.Consumers().Select(c => new ConsumerLag(c.Consumer, c.Acked, Math.Max(0, head - c.Acked), c.AckedAt,
                Math.Round(Math.Max(0, (now - c.AckedAt).TotalSeconds), 1))).ToList(),
            Outcomes = new Outcomes(OutcomeFigureMaker.Window(midnight, decided), OutcomeFigureMaker.Window(weekStart, decided)),
        });
    }

    /// <summary>Local midnight <paramref name="days"/> from today's in <paramref name="zone"/>, with that day's offset.</summary>
    public static DateTimeOffset LocalMidnight(DateTimeOffset now, TimeZoneInfo zone, int days)
    {
        var day = TimeZoneInfo.ConvertTime(now, zone).Date.AddDays(days);
        return new DateTimeOffset(day, zone.GetUtcOffset(day));
    }

    private static CaseCounts Counts(IReadOnlyCollection<CaseCount> cells) => new(
        cells.Sum(c => c.Count),
        cells.GroupBy(c => c.CaseType).ToDictionary(g => g.Key, g => g.Sum(c => c.Count)),
        cells.GroupBy(c => c.GroupId).ToDictionary(g => g.Key, g => g.Sum(c => c.Count)));
}
