using CitySight.Domain;

namespace CitySight.Tracking;

/// <summary>The mutable state behind one track. One object per track for its whole life (never pooled), so
/// nothing can confuse two tracks; a new object costs one allocation when something new appears.</summary>
internal sealed class TrackedObject
{
    public long Id;
    public TrackState State;
    public string? CaseType;
    public int ClassId;
    public string ClassName = "";
    public Box Box;
    public float Confidence;
    public DateTimeOffset FirstSeen;
    public DateTimeOffset LastSeen;
    public int Hits;
    public int Misses;
    public float BestConfidence;
    public DateTimeOffset BestSeen;
    public Box BestBox;

    // Constant-velocity model of the box centre, pixels per second.
    public float Vx, Vy;
    public bool HasVelocity;

    // Per update: where the track is expected, seconds since it was last seen, the detection it took.
    public Box Predicted;
    public float Dt;
    public int MatchedDetection = -1;

    // Still period: running mean box of the sightings inside the radius, since when, last inside.
    public float MeanX1, MeanY1, MeanX2, MeanY2;
    public int StillCount;
    public DateTimeOffset StillSince;
    public DateTimeOffset StillLastInside;
    public bool Stationary;
    public int Outside;

    public Box MeanBox => new(MeanX1, MeanY1, MeanX2, MeanY2);

    public float Speed => HasVelocity ? MathF.Sqrt(Vx * Vx + Vy * Vy) / MathF.Max(1f, Box.Height) : 0f;

    public Track Snapshot() => new()
    {
        Id = Id,
        CaseType = CaseType,
        ClassId = ClassId,
        ClassName = ClassName,
        Box = Box,
        Confidence = Confidence,
        FirstSeen = FirstSeen,
        LastSeen = LastSeen,
        State = State,
        StationarySince = Stationary ? StillSince : null,
        Speed = Speed,
        Hits = Hits,
        BestConfidence = BestConfidence,
        BestSeen = BestSeen,
        BestBox = BestBox,
    };
}
