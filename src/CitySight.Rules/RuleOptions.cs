using CitySight.Domain;

namespace CitySight.Rules;

/// <summary>How detections become cases. Defaults suit a camera sampled every second or so.</summary>
public sealed record RuleOptions
{
    /// <summary>Detections below this confidence raise nothing (a case type's own rule may ask for more).</summary>
    public float MinConfidence { get; init; } = 0.35f;
    /// <summary>Samples a track must be seen on before it may raise a case: one-frame false positives never reach dispatch.</summary>
    public int ConfirmSamples { get; init; } = 3;
    /// <summary>IoU at which a new track is at the place of a case already open (the tracker lost the object for a while).</summary>
    public float SameObjectIoU { get; init; } = 0.3f;
    /// <summary>A hit this soon after a case's last sighting, at the same place, is that case again.</summary>
    public TimeSpan DedupWindow { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>A still-open case is re-reported to the store at most this often unless its confidence improves.</summary>
    public TimeSpan SightingInterval { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Each case type's rule (dwell, stationary, confidence); by default: present, no dwell, <see cref="MinConfidence"/>.</summary>
    public Func<string, CaseTypeRules>? ForType { get; init; }

    public CaseTypeRules RuleFor(string caseType) => ForType?.Invoke(caseType) ?? new CaseTypeRules { MinConfidence = MinConfidence };
}
