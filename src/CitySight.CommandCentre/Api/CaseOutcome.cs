namespace CitySight.CommandCentre.Api;

/// <summary>An operator's decision on a case: acknowledged, closed or rejected, with a note (why it was rejected).</summary>
public sealed record CaseOutcome(string? Outcome, string? Note);
