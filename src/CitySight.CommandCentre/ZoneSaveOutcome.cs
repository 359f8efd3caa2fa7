using CitySight.CommandCentre.Api;

namespace CitySight.CommandCentre;

/// <summary>What saving zones did: the zones as saved and applied, or the configuration errors that kept the file as it was.</summary>
public sealed record ZoneSaveOutcome(CameraZones? Saved, IReadOnlyList<string> Errors);
