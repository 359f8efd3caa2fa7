namespace CitySight.CommandCentre;

/// <summary>
/// One camera as the console shows it. <paramref name="State"/> is streaming, connecting, stalled, offline, patrolled,
/// disabled or stopped; <paramref name="Reason"/> says why it is not streaming and never holds the camera's URL or any
/// part of it (the page answers more people than the camera's owner). <paramref name="Street"/> is its group's street
/// (街道, for the wall's filter); <paramref name="Mode"/> continuous or patrol as configured; <paramref name="FramesPerSecond"/>
/// the frames its stream hands on per second now (null for a patrolled camera, or before a stream has run ~10 s).
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
    double? LastFrameAgeSeconds,
    string Street = "",
    string Mode = "continuous",
    double? FramesPerSecond = null);
