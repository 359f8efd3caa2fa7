using CitySight.Cases;
using CitySight.CommandCentre.Api;
using CitySight.Domain;
using Microsoft.AspNetCore.Http;

namespace CitySight.CommandCentre;

/// <summary>The one screen's figures and the cameras.</summary>
internal static class OverviewEndpoints
{
    public static IResult Cameras(CommandCentreOptions options) => Results.Ok(options.Cameras());

    public static async Task<IResult> Overview(CommandCentreOptions options, ICaseRecords records, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var local = TimeZoneInfo.ConvertTime(now, options.TimeZone);
        var midnight = new DateTimeOffset(local.Date, local.Offset);
        var cases = await records.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true, ct);
        var open = cases.Where(c => CaseQuery.OpenStates.Contains(c.State)).ToList();
        var today = cases.Where(c => c.ReportedAt >= midnight).ToList();
        var cameras = options.Cameras();
        return Results.Ok(new Overview
        {
            At = now,
            TimeZone = options.TimeZone.Id,
            Open = Counts(open),
            Today = Counts(today),
            Cameras = cameras.Count,
            CamerasByState = cameras.GroupBy(c => c.State).ToDictionary(g => g.Key, g => g.Count()),
            Types = open.Concat(today).GroupBy(c => c.CaseType)
                .ToDictionary(g => g.Key, g => new CaseTypeName(g.Last().CaseTypeNameZh, g.Last().CaseTypeNameEn)),
            Groups = cameras.GroupBy(c => c.GroupId).ToDictionary(g => g.Key, g => g.First().GroupName),
        });
    }

    private static CaseCounts Counts(IReadOnlyCollection<Case> cases) => new(
        cases.Count,
        cases.GroupBy(c => c.CaseType).ToDictionary(g => g.Key, g => g.Count()),
        cases.GroupBy(c => c.GroupId).ToDictionary(g => g.Key, g => g.Count()));
}
