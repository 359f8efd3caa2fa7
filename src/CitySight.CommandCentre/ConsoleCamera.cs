namespace CitySight.CommandCentre;

/// <summary>
/// One camera as the console shows it. <paramref name="State"/> is streaming, connecting, stalled, offline, patrolled,
/// disabled or stopped; <paramref name="Reason"/> says why it is not streaming and never holds the camera's URL or any
/// part of it (the page answers more people than the camera's owner).
/// </summary>
public sealed record ConsoleCamera(
    string Id,
    string Name,
    string GroupId,
    string GroupName,
    string State,
    string? Reason,
    double Latitude,
    double Longitude,
    double? LastFrameAgeSeconds);
