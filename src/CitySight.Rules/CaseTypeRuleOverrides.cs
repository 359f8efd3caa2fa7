using CitySight.Domain;

namespace CitySight.Rules;

/// <summary>What rules.case_types.TYPE sets; null = the default (<see cref="RuleOptions.RuleFor"/>).</summary>
public sealed record CaseTypeRuleOverrides
{
    public float? MinConfidence { get; init; }
    public TimeSpan? MinDwell { get; init; }
    public bool? RequireStationary { get; init; }
    public double? StationaryRadius { get; init; }
    public bool? ReportOnce { get; init; }

    public CaseTypeRules ApplyTo(CaseTypeRules r) => new()
    {
        MinConfidence = MinConfidence ?? r.MinConfidence,
        MinDwell = MinDwell ?? r.MinDwell,
        RequireStationary = RequireStationary ?? r.RequireStationary,
        StationaryRadius = StationaryRadius ?? r.StationaryRadius,
        ReportOnce = ReportOnce ?? r.ReportOnce,
    };
}
