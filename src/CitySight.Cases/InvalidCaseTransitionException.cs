using CitySight.Domain;

namespace CitySight.Cases;

/// <summary>A lifecycle step the case cannot take from where it is (e.g. reopening a closed case).</summary>
public sealed class InvalidCaseTransitionException(string caseId, CaseState from, CaseState to)
    : InvalidOperationException($"case '{caseId}' is {from.ToString().ToLowerInvariant()}: it cannot become {to.ToString().ToLowerInvariant()}")
{
    public string CaseId { get; } = caseId;
    public CaseState From { get; } = from;
    public CaseState To { get; } = to;
}
