namespace CitySight.Inference.StaticObjects;

/// <summary>
/// Settings of the model-free static-object pass (<see cref="StaticObjectDetector"/>). Defaults are written here only.
/// Times are frame time (capture times), never the wall clock.
/// </summary>
public sealed record StaticObjectOptions
{
    /// <summary>The class name its detections carry; zones and the manifest map it to case types (garbage, billboard).</summary>
    public const string ClassName = "static_object";

    /// <summary>
    /// Class id of its detections. Negative so it never collides with a model's class index; the tracker only
    /// matches a class-less detection to a track of the same id.
    /// </summary>
    public int ClassId { get; init; } = -1;

    /// <summary>
    /// Analysis grid across and down: the frame is reduced to about this many cells of averaged grey (1080p → 20×20
    /// pixel cells, 640×480 → 6×8). Averaging a block tolerates noise and compression; coarser cells tolerate shake
    /// better but miss smaller objects.
    /// </summary>
    public int CellsAcross { get; init; } = 96;

    /// <inheritdoc cref="CellsAcross"/>
    public int CellsDown { get; init; } = 54;

    /// <summary>
    /// Samples per cell side at most: larger cells are read every n-th pixel and row. 8×8 samples average rain and
    /// compression noise well enough and keep a 1080p frame to about a quarter-million pixel reads.
    /// </summary>
    public int SamplesPerCellSide { get; init; } = 8;

    /// <summary>
    /// How different a cell must be from the reference to count as changed, in grey levels after normalising the frame
    /// to a median of 128 (so about 20% of the scene's typical brightness). Below it: shadows' soft edges, noise.
    /// </summary>
    public float DifferenceThreshold { get; init; } = 26f;

    /// <summary>
    /// How far a changed cell may wander (normalised grey levels) and still count as the same still thing: noise on a
    /// still object stays well inside it, something moving does not.
    /// </summary>
    public float StableTolerance { get; init; } = 12f;

    /// <summary>
    /// How long a change must stay unchanged before it is reported. Things passing through (people, traffic the models
    /// missed) stay for less; at patrol sampling (one frame a minute) it means "the same on two visits".
    /// </summary>
    public TimeSpan SettleTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a still difference is reported before the reference absorbs it as the new normal. Must be far longer
    /// than the longest dwell a case type asks of a static object (garbage: stationary 10 minutes), or the object would
    /// vanish before its case is raised; after it the case closes as gone.
    /// </summary>
    public TimeSpan AbsorbTime { get; init; } = TimeSpan.FromHours(2);

    /// <summary>
    /// Time constant with which unchanged cells follow the scene (slow light drift, dusk and dawn, wet ground): short
    /// enough to keep up with a sunset, long enough that one noisy frame moves the reference little.
    /// </summary>
    public TimeSpan FollowTime { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Smallest region reported, as a fraction of the frame's area (0.1% of 1080p ≈ 45×45 pixels).</summary>
    public float MinRegionFraction { get; init; } = 0.001f;

    /// <summary>Largest region reported, as a fraction of the frame's area: anything bigger is a scene change, not an object.</summary>
    public float MaxRegionFraction { get; init; } = 0.2f;

    /// <summary>
    /// Regions closer than this (fraction of the frame's width) are one object: the parts of a thing that happen to
    /// match the ground behind them split it into pieces, and two things this close are one pile to clear anyway.
    /// </summary>
    public float JoinGapFraction { get; init; } = 0.05f;

    /// <summary>
    /// When more than this fraction of the unmasked cells differ from the reference at once, the frame is a lighting
    /// switch (exposure step, IR/day-night, a floodlight): the reference is re-seeded from it and nothing is raised.
    /// </summary>
    public float GlobalChangeFraction { get; init; } = 0.3f;

    /// <summary>
    /// A step of the scene's median brightness by more than this factor between two frames (either way) is an exposure
    /// or IR switch even where normalising would hide it (clipped highlights): the reference is re-seeded.
    /// </summary>
    public float ExposureJumpRatio { get; init; } = 1.3f;

    /// <summary>
    /// The median grey the normalisation divides by is at least this: at night it keeps sensor noise from being
    /// amplified into changes.
    /// </summary>
    public float MinMedianGrey { get; init; } = 24f;
}
