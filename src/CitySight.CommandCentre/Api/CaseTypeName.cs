namespace CitySight.CommandCentre.Api;

/// <summary>A case type's names as the city configured them (copied on its cases).</summary>
public sealed record CaseTypeName(string Zh, string En);
