using CitySight.CommandCentre.Api;
using Microsoft.AspNetCore.Http;

namespace CitySight.CommandCentre;

/// <summary>The zone editor's API: a camera's zones, and saving them into its group file (validated, then applied by the reload).</summary>
internal static class ZoneEndpoints
{
    /// <summary>Limits on what one save may hold: far above any real camera, far below what would bloat its file.</summary>
    public const int MaxZones = 64, MaxPoints = 64, MaxText = 200;

    public static IResult Get(string id, CommandCentreOptions options) =>
        options.Zones?.Zones(id) is { } zones ? Results.Ok(zones) : NoFile(id);

    public static async Task<IResult> Put(string id, CameraZones body, HttpContext context, ConsoleAccess access, CommandCentreOptions options,
        CancellationToken ct)
    {
        if (access.MayAdminister(context) is { } refusal) return refusal;
        if (options.Zones is not { } book) return NoFile(id);
        if (Problem(body.Zones) is { } problem) return Results.BadRequest(new ZoneSaveRefusal(problem, []));
        var outcome = await book.SaveAsync(id, body.Zones, ConsoleAccess.Consumer(context) ?? "(this machine)", ct);
        if (outcome is null) return NoFile(id);
        if (outcome.Saved is { } saved) return Results.Ok(saved);
        return Results.BadRequest(new ZoneSaveRefusal("not saved: the configuration would not be valid (the file is unchanged)", outcome.Errors));
    }

    private static IResult NoFile(string id) => Results.NotFound(new ApiError($"no camera '{id}' in the camera group files"));

    /// <summary>What the page itself should never send; everything else the configuration's validation judges, at its line.</summary>
    private static string? Problem(IReadOnlyList<ConsoleZone>? zones)
    {
        if (zones is null) return "zones is required (an empty list removes them all)";
        if (zones.Count > MaxZones) return $"at most {MaxZones} zones per camera";
        foreach (var z in zones)
        {
            if (z is null) return "a zone is null";
            if (string.IsNullOrWhiteSpace(z.Id) || z.Id.Length > MaxText) return $"each zone needs an id of 1 to {MaxText} characters";
            if (z.Points is null || z.Points.Count > MaxPoints) return $"zone '{z.Id}': points must be a list of at most {MaxPoints} [x, y] pairs";
            if (z.Points.Any(p => p is not { Length: 2 } || !double.IsFinite(p[0]) || !double.IsFinite(p[1])))
                return $"zone '{z.Id}': each point must be [x, y] with two numbers";
            if (z.CaseTypes is null || z.CaseTypes.Any(t => string.IsNullOrWhiteSpace(t) || t.Length > MaxText))
                return $"zone '{z.Id}': caseTypes must list case type ids";
            if (z.Schedule is { Length: > MaxText }) return $"zone '{z.Id}': schedule is longer than {MaxText} characters";
        }
        return null;
    }
}
