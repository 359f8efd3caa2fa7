namespace CitySight.Rules;

/// <summary>How detections become cases. Defaults suit a camera sampled every second or so.</summary>
public sealed record RuleOptions
{
    public float MinConfidence { get; init; } = 0.35f;
    /// <summary>Consecutive samples an object must be seen on before it is a hit: one-frame false positives never reach dispatch.</summary>
    public int ConfirmSamples { get; init; } = 3;
    /// <summary>IoU at which two boxes are the same object (between samples) or the same case (dedup).</summary>
    public float SameObjectIoU { get; init; } = 0.3f;
    /// <summary>A hit this soon after a case's last sighting, at the same place, is that case again.</summary>
    public TimeSpan DedupWindow { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>A still-open case is re-reported to the store at most this often unless its confidence improves.</summary>
    public TimeSpan SightingInterval { get; init; } = TimeSpan.FromSeconds(30);
}
