using CitySight.Domain;

namespace CitySight.Cases;

/// <summary>
/// Which cases a reader (the command-centre console) wants, newest first: by state, type, group and camera, at most
/// <see cref="Limit"/>. Read with <see cref="ICaseRecords.NewestAsync"/>.
/// </summary>
public sealed record CaseQuery
{
    /// <summary>The open states: reported to dispatch, or acknowledged by it.</summary>
    public static readonly IReadOnlySet<CaseState> OpenStates = new HashSet<CaseState> { CaseState.Reported, CaseState.Acknowledged };

    /// <summary>The largest <see cref="Limit"/> a reader may ask for: a page of a list, never the whole store.</summary>
    public const int MaxLimit = 500;

    /// <summary>The states wanted; null for every state.</summary>
    public IReadOnlySet<CaseState>? States { get; init; }

    /// <summary>Only this case type (its id, e.g. illegal_parking); null or empty for every type.</summary>
    public string? CaseType { get; init; }

    /// <summary>Only cases of cameras of this group; null or empty for every group.</summary>
    public string? GroupId { get; init; }

    /// <summary>Only cases raised at or after this instant (first seen when not raised yet); null: no lower bound.</summary>
    public DateTimeOffset? RaisedSince { get; init; }

    /// <summary>Only cases raised at or before this instant; null: no upper bound.</summary>
    public DateTimeOffset? RaisedUntil { get; init; }

    /// <summary>Only cases of this camera (the console's camera detail); null or empty for every camera.</summary>
    public string? CameraId { get; init; }

    /// <summary>How many cases at most (1 to <see cref="MaxLimit"/>).</summary>
    public int Limit { get; init; } = 50;

    /// <summary>Whether closed or rejected cases can match (a backend may then skip reading them).</summary>
    public bool IncludesFinal => States is null || States.Any(s => s.IsFinal());

    public bool Matches(Case c) =>
        (States is null || States.Contains(c.State))
        && (string.IsNullOrEmpty(CaseType) || c.CaseType == CaseType)
        && (string.IsNullOrEmpty(GroupId) || c.GroupId == GroupId)
        && (RaisedSince is not { } since || (c.RaisedAt ?? c.FirstSeen) >= since)
        && (RaisedUntil is not { } until || (c.RaisedAt ?? c.FirstSeen) <= until)
        && (string.IsNullOrEmpty(CameraId) || c.CameraId == CameraId);
}
