namespace CitySight.CommandCentre.Api;

/// <summary>
/// The detector's pace over the last <see cref="WindowSeconds"/> (about a minute, between the overview's reads): frames
/// through the models per second (each model counts the frames it ran), frames dropped per second (a newer frame of the
/// same camera replaced one still waiting for the detector), and the totals since the service started. The rates are
/// null until two reads a second or more apart exist.
/// </summary>
public sealed record DetectorFigures(
    double? FramesPerSecond,
    double? DroppedPerSecond,
    long Frames,
    long Dropped,
    double WindowSeconds,
    IReadOnlyDictionary<string, double?> FramesPerSecondByModel);
