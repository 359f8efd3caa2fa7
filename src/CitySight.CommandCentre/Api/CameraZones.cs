namespace CitySight.CommandCentre.Api;

/// <summary>
/// A camera's zones as its group file has them now, with where that file is (relative to citysight.yaml's folder) and
/// the case types the camera looks for (the only ones a zone may name) with their names. PUT takes the same body (only
/// zones is read).
/// </summary>
public sealed record CameraZones(
    string CameraId,
    string GroupId,
    string File,
    IReadOnlyList<string> Detectors,
    IReadOnlyDictionary<string, CaseTypeName> TypeNames,
    IReadOnlyList<ConsoleZone> Zones);
