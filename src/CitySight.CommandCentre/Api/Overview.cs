namespace CitySight.CommandCentre.Api;

/// <summary>
/// The one screen's figures: the cases open now and those reported today (from local midnight in
/// <see cref="TimeZone"/>), by type and group; the cameras by state.
/// </summary>
public sealed record Overview
{
    public DateTimeOffset At { get; init; }
    public required string TimeZone { get; init; }
    public required CaseCounts Open { get; init; }
    public required CaseCounts Today { get; init; }
    public int Cameras { get; init; }
    /// <summary>streaming, stalled, offline, patrolled, disabled, … → how many cameras.</summary>
    public required IReadOnlyDictionary<string, int> CamerasByState { get; init; }
    /// <summary>Names for the type ids counted above.</summary>
    public required IReadOnlyDictionary<string, CaseTypeName> Types { get; init; }
    /// <summary>Names for the group ids counted above.</summary>
    public required IReadOnlyDictionary<string, string> Groups { get; init; }
}
