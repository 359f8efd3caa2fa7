namespace CitySight.Domain;

/// <summary>Where a track is in its life.</summary>
public enum TrackState
{
    /// <summary>Seen on too few samples to be trusted yet; trackers do not hand these out.</summary>
    Tentative,
    /// <summary>Trusted and seen on the latest sample.</summary>
    Confirmed,
    /// <summary>Trusted but not seen on the latest sample (occluded, missed, or gone); kept a while in case it comes back.</summary>
    Lost,
}

/// <summary>
/// One object followed over one camera's samples, as of a tracker update: a value, so it stays as it was when taken.
/// All times are capture (stream) times. Ids are unique per camera and per tracker instance (they start again at 1
/// when the tracker is created), so key anything durable by camera and first-seen time as well.
/// </summary>
public readonly record struct Track
{
    /// <summary>Per-camera id, assigned when the track is confirmed: 1, 2, 3… in order of confirmation.</summary>
    public long Id { get; init; }

    /// <summary>The case type the track's detections map to; null only for trackers that follow every class.</summary>
    public string? CaseType { get; init; }

    /// <summary>Class of the latest matched detection (a detector may flicker between e.g. car and truck).</summary>
    public int ClassId { get; init; }
    public string ClassName { get; init; }

    /// <summary>Box of the latest matched detection, in source-image pixels (for a Lost track: where it was last seen).</summary>
    public Box Box { get; init; }

    /// <summary>Confidence of the latest matched detection.</summary>
    public float Confidence { get; init; }

    public DateTimeOffset FirstSeen { get; init; }
    public DateTimeOffset LastSeen { get; init; }
    public TrackState State { get; init; }

    /// <summary>
    /// Since when the object's ground point (bottom centre) has stayed within a small radius (relative to its height);
    /// null while it is moving or has not yet been still for the tracker's minimum time. Survives short occlusions.
    /// </summary>
    public DateTimeOffset? StationarySince { get; init; }

    /// <summary>Smoothed speed of the box centre in box heights per second (so near and far objects compare).</summary>
    public float Speed { get; init; }

    /// <summary>Samples the track was matched on.</summary>
    public int Hits { get; init; }

    /// <summary>The most confident sighting so far (for evidence): its confidence, capture time and box.
    /// A frame whose capture time equals BestSeen is the one to keep as evidence.</summary>
    public float BestConfidence { get; init; }
    public DateTimeOffset BestSeen { get; init; }
    public Box BestBox { get; init; }

    public bool IsStationary => StationarySince.HasValue;

    /// <summary>How long the object has been still as of <paramref name="now"/>; zero when it is not stationary.
    /// For a Lost track this keeps counting from StationarySince: check State if that matters.</summary>
    public TimeSpan StationaryFor(DateTimeOffset now) =>
        StationarySince is { } since && now > since ? now - since : TimeSpan.Zero;
}
