namespace CitySight.CommandCentre.Api;

/// <summary>How many cases, and how many of each type (type id) and of each group (group id).</summary>
public sealed record CaseCounts(int Total, IReadOnlyDictionary<string, int> ByType, IReadOnlyDictionary<string, int> ByGroup);
