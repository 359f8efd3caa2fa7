using CitySight.Cases;
using CitySight.CommandCentre.Api;
using CitySight.Domain;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CitySight.CommandCentre;

/// <summary>The cases: the list, one case, its pictures, and an operator's decision (the same path as dispatch's ReportOutcome).</summary>
internal static class CaseEndpoints
{
    /// <summary>The pictures by the names the API uses in its paths.</summary>
    public static readonly IReadOnlyDictionary<string, EvidenceView> Views = new Dictionary<string, EvidenceView>(StringComparer.Ordinal)
    {
        ["best"] = EvidenceView.Best,
        ["best-crop"] = EvidenceView.BestCrop,
        ["first"] = EvidenceView.First,
        ["first-crop"] = EvidenceView.FirstCrop,
        ["before-after"] = EvidenceView.BeforeAfter,
    };

    private static readonly Dictionary<string, IReadOnlySet<CaseState>?> StateFilters = new(StringComparer.Ordinal)
    {
        ["open"] = CaseQuery.OpenStates,
        ["reported"] = new HashSet<CaseState> { CaseState.Reported },
        ["acknowledged"] = new HashSet<CaseState> { CaseState.Acknowledged },
        ["closed"] = new HashSet<CaseState> { CaseState.Closed },
        ["rejected"] = new HashSet<CaseState> { CaseState.Rejected },
        ["final"] = new HashSet<CaseState> { CaseState.Closed, CaseState.Rejected },
        ["all"] = null,
    };

    /// <summary>Notes longer than this are refused: a sentence or two for dispatch, not a document.</summary>
    public const int MaxNoteLength = 1000;

    public static async Task<IResult> List(ICaseRecords records, ICaseFeed feed, string? state, string? type, string? group, string? since,
        string? until, int? limit, string? camera, CancellationToken ct)
    {
        // The head first: an event committed while the list is read is then followed, never skipped.
        var head = feed.LastSequence;
        if (!StateFilters.TryGetValue(state ?? "open", out var states))
            return Results.BadRequest(new ApiError($"state must be one of {string.Join(", ", StateFilters.Keys)}"));
        var max = limit ?? 50;
        if (max is < 1 or > CaseQuery.MaxLimit)
            return Results.BadRequest(new ApiError($"limit must be 1 to {CaseQuery.MaxLimit}"));
        if (!TryInstant(since, out var from)) return Results.BadRequest(new ApiError($"since must be an ISO 8601 time with its offset (got '{since}')"));
        if (!TryInstant(until, out var to)) return Results.BadRequest(new ApiError($"until must be an ISO 8601 time with its offset (got '{until}')"));
        var cases = await records.NewestAsync(new CaseQuery
        {
            States = states, CaseType = type, GroupId = group, CameraId = camera, RaisedSince = from, RaisedUntil = to, Limit = max,
        }, ct);
        return Results.Ok(new CaseList(cases.Select(ConsoleCase.Of).ToList(), head));
    }

    /// <summary>Empty is no bound; otherwise an instant with its offset (a bare local time would depend on the server's zone).</summary>
    private static bool TryInstant(string? text, out DateTimeOffset? at)
    {
        at = null;
        if (string.IsNullOrEmpty(text)) return true;
        if (!System.Text.RegularExpressions.Regex.IsMatch(text, @"(Z|[+-]\d\d:?\d\d)$")) return false;
        if (!DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var t)) return false;
        at = t;
        return true;
    }

    public static async Task<IResult> Get(string id, ICaseRecords records, CancellationToken ct) =>
        await records.GetAsync(id, ct) is { } c ? Results.Ok(ConsoleCase.Of(c)) : Results.NotFound(new ApiError($"no case '{id}'"));

    public static async Task<IResult> Evidence(string id, string view, IEvidenceStore evidence, HttpContext context, CancellationToken ct)
    {
        if (!Views.TryGetValue(view, out var v))
            return Results.BadRequest(new ApiError($"view must be one of {string.Join(", ", Views.Keys)}"));
        if (await evidence.GetEvidenceAsync(id, v, ct) is not { Length: > 0 } jpeg)
            return Results.NotFound(new ApiError($"case '{id}' has no {view} picture"));
        // A better view replaces the best one: the browser asks again rather than keep an old proof.
        context.Response.Headers.CacheControl = "private, no-cache";
        return Results.File(jpeg, "image/jpeg");
    }

    /// <summary>
    /// Acknowledge, close or reject: <see cref="ICaseRecords.TransitionAsync"/>, as dispatch's ReportOutcome does, so
    /// the place cools down the same way and every gRPC, MQTT and push consumer hears the same state change.
    /// </summary>
    public static async Task<IResult> Decide(string id, CaseOutcome body, HttpContext context, ConsoleAccess access, ICaseRecords records,
        ILoggerFactory logs, CancellationToken ct)
    {
        if (access.MayDecide(context) is { } refusal) return refusal;
        CaseState? to = body.Outcome switch
        {
            "acknowledged" => CaseState.Acknowledged,
            "closed" => CaseState.Closed,
            "rejected" => CaseState.Rejected,
            _ => null,
        };
        if (to is null) return Results.BadRequest(new ApiError("outcome must be acknowledged, closed or rejected"));
        if (body.Note is { Length: > MaxNoteLength }) return Results.BadRequest(new ApiError($"note must be at most {MaxNoteLength} characters"));
        try
        {
            var c = await records.TransitionAsync(id, to.Value, DateTimeOffset.UtcNow, body.Note, ct);
            var by = ConsoleAccess.Consumer(context) ?? "(this machine)";
            logs.CreateLogger("CitySight.CommandCentre").LogInformation("Case {Case} {State} by {Consumer} in the console", c.Id, c.State, by);
            return Results.Ok(ConsoleCase.Of(c));
        }
        catch (KeyNotFoundException)
        {
            return Results.NotFound(new ApiError($"no case '{id}'"));
        }
        catch (InvalidCaseTransitionException ex)
        {
            return Results.Conflict(new ApiError(ex.Message));
        }
        catch (ArgumentException ex)
        {
            return Results.BadRequest(new ApiError(ex.Message));
        }
    }
}
