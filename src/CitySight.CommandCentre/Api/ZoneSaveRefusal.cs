namespace CitySight.CommandCentre.Api;

/// <summary>Zones not saved: what is wrong, and each configuration error as file:line:column: field: message (the file untouched).</summary>
public sealed record ZoneSaveRefusal(string Error, IReadOnlyList<string> Errors);
