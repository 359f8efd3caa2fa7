namespace CitySight.CommandCentre.Api;

/// <summary>The outcome figures of the cases that ended since <see cref="From"/>: all of them, by type id and by group id.</summary>
public sealed record OutcomeWindow(
    DateTimeOffset From,
    OutcomeFigures All,
    IReadOnlyDictionary<string, OutcomeFigures> ByType,
    IReadOnlyDictionary<string, OutcomeFigures> ByGroup);
