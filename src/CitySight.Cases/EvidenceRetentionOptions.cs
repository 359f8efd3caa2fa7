namespace CitySight.Cases;

/// <summary>How long and how much evidence the evidence folder keeps (service.evidence_retention_days, service.evidence_max_gb).</summary>
public sealed record EvidenceRetentionOptions
{
    /// <summary>Pictures of cases closed or rejected longer ago than this are deleted (the case rows stay).</summary>
    public int EvidenceRetentionDays { get; init; } = 90;
    /// <summary>Above this, the evidence folder sheds the oldest closed cases' pictures first; never an open case's proof.</summary>
    public double EvidenceMaxGigabytes { get; init; } = 50;
}
