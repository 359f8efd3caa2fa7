namespace CitySight.CommandCentre;

/// <summary>
/// The detector's running totals as the host reads them: frames each model ran (by model name), and frames dropped
/// before detection (a newer frame of the same camera took the waiting one's place). The console turns them into rates.
/// </summary>
public sealed record DetectorCounters(IReadOnlyDictionary<string, long> FramesByModel, long Dropped);
