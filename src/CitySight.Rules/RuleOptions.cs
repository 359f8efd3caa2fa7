using CitySight.Domain;

namespace CitySight.Rules;

/// <summary>How detections become cases (the rules section). Defaults suit a camera sampled every second or so.</summary>
public sealed record RuleOptions
{
    /// <summary>Detections below this confidence raise nothing (a case type's own rule may ask for more).</summary>
    public float MinConfidence { get; init; } = CaseTypeRules.DefaultMinConfidence;
    /// <summary>Samples a track must be seen on before it may raise a case: one-frame false positives never reach dispatch.</summary>
    public int ConfirmSamples { get; init; } = 3;
    /// <summary>IoU at which a new track is at the place of a case already open (the tracker lost the object for a while).</summary>
    public float SameObjectIoU { get; init; } = 0.3f;
    /// <summary>A hit this soon after a case's last sighting, at the same place, is that case again; zero turns it off.</summary>
    public TimeSpan DedupWindow { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>A still-open case is re-reported to the store at most this often unless its confidence improves.</summary>
    public TimeSpan SightingInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A street stall needs goods beside the person who stayed: a vendor item still for at least this long (goods
    /// just set down by a passer-by, a bicycle wheeled past, are not a stall).
    /// </summary>
    public TimeSpan StallItemStill { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How near the goods must be: within this many of the person's heights of the person's foot.</summary>
    public float StallReach { get; init; } = 1f;

    /// <summary>
    /// How often a camera asking for garbage or billboards keeps a small view of its scene, for a static object's
    /// before / after pair (<see cref="SceneMemory"/>). The host sets it from the static-object pass's settle time, so
    /// the oldest view predates any object the pass reports.
    /// </summary>
    public TimeSpan BeforeViewInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// rules.case_types, by case type id. When set (a loaded configuration always sets it, empty when the YAML has
    /// none) each type's rule is its <see cref="BuiltIn"/> one with <see cref="MinConfidence"/>, overridden by these;
    /// null: every type is present-no-dwell at <see cref="MinConfidence"/> (tests of the rules themselves).
    /// </summary>
    public IReadOnlyDictionary<string, CaseTypeRuleOverrides>? CaseTypes { get; init; }

    /// <summary>The rule for one case type (read once per type by <see cref="CameraRules"/>, off the per-frame path).</summary>
    public CaseTypeRules RuleFor(string caseType)
    {
        if (CaseTypes is null) return new CaseTypeRules { MinConfidence = MinConfidence };
        var r = BuiltIn(caseType) with { MinConfidence = MinConfidence };
        return CaseTypes.TryGetValue(caseType, out var o) ? o.ApplyTo(r) : r;
    }

    /// <summary>
    /// Built-in defaults per case type (min_confidence here is the global default, <see cref="MinConfidence"/>):
    /// illegal_parking: stationary 10 minutes (districts' ten-minute grace, 十分钟违停免罚);
    /// street_stall: present 5 minutes, moving about allowed (a person, only with goods beside them: see
    /// <see cref="StallItemStill"/>); garbage: stationary 10 minutes;
    /// billboard: a static object, no dwell, reported once; any other type: no dwell beyond confirm_samples.
    /// </summary>
    public static CaseTypeRules BuiltIn(string caseType) => caseType switch
    {
        "illegal_parking" => new() { MinDwell = TimeSpan.FromMinutes(10), RequireStationary = true },
        "street_stall" => new() { MinDwell = TimeSpan.FromMinutes(5), RequireStationary = false },
        "garbage" => new() { MinDwell = TimeSpan.FromMinutes(10), RequireStationary = true },
        "billboard" => new() { MinDwell = TimeSpan.Zero, RequireStationary = true, ReportOnce = true },
        _ => new(),
    };

    // The per-type overrides compare by content (a loaded configuration is compared with an expected one).
    public bool Equals(RuleOptions? other) =>
        other is not null
        && MinConfidence == other.MinConfidence
        && ConfirmSamples == other.ConfirmSamples
        && SameObjectIoU == other.SameObjectIoU
        && DedupWindow == other.DedupWindow
        && SightingInterval == other.SightingInterval
        && StallItemStill == other.StallItemStill
        && StallReach == other.StallReach
        && BeforeViewInterval == other.BeforeViewInterval
        && (CaseTypes is null ? other.CaseTypes is null
            : other.CaseTypes is not null && CaseTypes.Count == other.CaseTypes.Count
              && CaseTypes.All(kv => other.CaseTypes.TryGetValue(kv.Key, out var o) && kv.Value == o));

    public override int GetHashCode() => HashCode.Combine(MinConfidence, ConfirmSamples, SameObjectIoU, DedupWindow, CaseTypes?.Count);
}
