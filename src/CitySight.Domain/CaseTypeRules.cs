namespace CitySight.Domain;

/// <summary>How detections of one case type become a case: confidence, dwell, stationarity (configured in rules.case_types).</summary>
public sealed record CaseTypeRules
{
    /// <summary>The confidence threshold of rules.min_confidence when unset; its one home (the rules' and a type's default).</summary>
    public const float DefaultMinConfidence = 0.35f;
    /// <summary>The stationary radius when a type sets none; its one home (the rules' and the tracker's default).</summary>
    public const float DefaultStationaryRadius = 0.25f;

    /// <summary>Detections of this type below this confidence are ignored.</summary>
    public float MinConfidence { get; init; } = DefaultMinConfidence;
    /// <summary>How long the object must be there (stationary, when <see cref="RequireStationary"/>) before a case is raised; zero = as soon as confirmed.</summary>
    public TimeSpan MinDwell { get; init; } = TimeSpan.Zero;
    /// <summary>The dwell counts only while the object stays put (a parked car, a pile of garbage), not merely present (a stall that moves about).</summary>
    public bool RequireStationary { get; init; }
    /// <summary>How far the box's bottom centre may wander and still be stationary, as a fraction of the box's height.</summary>
    public double StationaryRadius { get; init; } = DefaultStationaryRadius;
    /// <summary>A static object (a signboard): reported once; while it stays in place, closing its case does not raise it again.</summary>
    public bool ReportOnce { get; init; }
}
