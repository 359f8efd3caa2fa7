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
    /// <summary>Cases reported over the last 7 days (today and the 6 days before), whatever became of them.</summary>
    public CaseCounts? Week { get; init; }
    /// <summary>The detector's frames/s and drops; null when the host gives none (the console alone).</summary>
    public DetectorFigures? Detector { get; init; }
    /// <summary>The feed's head: the newest event's sequence, which every consumer's cursor is measured against.</summary>
    public long FeedHead { get; init; }
    /// <summary>Each delivery consumer's cursor against <see cref="FeedHead"/>, by name.</summary>
    public IReadOnlyList<ConsumerLag> Delivery { get; init; } = [];
    /// <summary>Dispatch's outcomes today and over the last 7 days: accepted vs rejected, time to close, by type and group.</summary>
    public Outcomes? Outcomes { get; init; }
}
