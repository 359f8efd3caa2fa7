namespace CitySight.CommandCentre.Api;

/// <summary>Dispatch's outcomes today (from local midnight) and over the last 7 days (today and the 6 before).</summary>
public sealed record Outcomes(OutcomeWindow Today, OutcomeWindow Week);
