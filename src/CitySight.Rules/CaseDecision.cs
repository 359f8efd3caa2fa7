using CitySight.Domain;

namespace CitySight.Rules;

/// <summary>What the rules concluded from one frame about one object.</summary>
public abstract record CaseDecision(string CaseId, Hit Hit)
{
    /// <summary>The camera's track the decision is about (its tracker's id).</summary>
    public long TrackId { get; init; }
}

/// <summary>A new event: raise a case, with this frame as its evidence.</summary>
public sealed record CaseOpened(string CaseId, Hit Hit) : CaseDecision(CaseId, Hit);

/// <summary>An open case seen again. <see cref="BetterEvidence"/>: this frame shows it with higher confidence.</summary>
public sealed record CaseSighted(string CaseId, Hit Hit, bool BetterEvidence) : CaseDecision(CaseId, Hit);
