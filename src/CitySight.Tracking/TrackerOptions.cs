using CitySight.Domain;

namespace CitySight.Tracking;

/// <summary>Settings of a <see cref="CameraTracker"/>. Sizes are in box sizes (the larger side of a box) or box
/// heights, so the same settings fit near and far objects and any resolution.</summary>
public sealed record TrackerOptions
{
    /// <summary>Detections at or above this may start tracks and are matched first. Low because the small models this
    /// project runs score real parked cars 0.5–0.75; ConfirmHits, not this, is what filters one-off false positives.</summary>
    public float HighConfidence { get; init; } = 0.4f;

    /// <summary>Detections at or above this (and below HighConfidence) only keep existing confirmed tracks alive.</summary>
    public float LowConfidence { get; init; } = 0.1f;

    /// <summary>Matched when the IoU between the track's predicted box and the detection is at least this.</summary>
    public float MinIoU { get; init; } = 0.3f;

    /// <summary>Motion gate when boxes do not overlap (seconds between samples): a detection whose centre lies within
    /// (GateBase + GatePerSecond × seconds since last seen) box sizes of the predicted centre, at most GateMax, may match.</summary>
    public float GateBase { get; init; } = 0.5f;
    public float GatePerSecond { get; init; } = 3f;
    public float GateMax { get; init; } = 5f;

    /// <summary>Side ratio (square root of the area ratio) beyond which a detection is a different object
    /// (a bus in front of a parked car is not the car).</summary>
    public float MaxSizeRatio { get; init; } = 2f;

    /// <summary>Weight of the newest velocity measurement (0..1) in the smoothed velocity.</summary>
    public float VelocitySmoothing { get; init; } = 0.5f;

    /// <summary>The predicted move is capped at this many box sizes, so a stale velocity does not fly the box away.</summary>
    public float MaxPredictionSizes { get; init; } = 4f;

    /// <summary>Matched samples before a track is confirmed and gets an id.</summary>
    public int ConfirmHits { get; init; } = 2;

    /// <summary>A confirmed track unseen for longer than this (and on at least MinLostSamples updates) is removed.</summary>
    public TimeSpan MaxLostTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>MaxLostTime for a track that was stationary when last seen: parked cars are hidden for longer
    /// (a bus at a stop, a lorry unloading) and are very likely still there.</summary>
    public TimeSpan StationaryMaxLostTime { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Missed updates a lost track survives whatever the time, so a long sampling interval (patrol visits)
    /// does not drop a track at its first miss.</summary>
    public int MinLostSamples { get; init; } = 2;

    /// <summary>Still while the bottom centre stays within this many box heights of where the still period began.</summary>
    public float StationaryRadius { get; init; } = CaseTypeRules.DefaultStationaryRadius;

    /// <summary>
    /// The radius for a case type (rules.case_types.TYPE.stationary_radius), read once per type; null or no answer:
    /// <see cref="StationaryRadius"/>. Called off the per-frame path only the first time a type is seen.
    /// </summary>
    public Func<string, float?>? StationaryRadiusFor { get; init; }

    /// <summary>…but never less than this fraction of the image height (detector jitter on small, far boxes).</summary>
    public float StationaryMinRadius { get; init; } = 0.005f;

    /// <summary>Still for at least this long before a track counts as stationary.</summary>
    public TimeSpan MinStationaryTime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Consecutive sightings outside the radius that end a still period: one outlier box
    /// (partly hidden, a bad detection) does not reset an hour of dwell.</summary>
    public int StationaryExitSamples { get; init; } = 2;

    /// <summary>An unmatched detection overlapping one already taken this sample by at least this IoU (same case type)
    /// starts no track: class-aware NMS keeps a car and a truck box on the same vehicle.</summary>
    public float DuplicateIoU { get; init; } = 0.7f;

    /// <summary>Also track detections whose class maps to no case type (CaseType null); they match by class id.</summary>
    public bool TrackAllClasses { get; init; }
}
