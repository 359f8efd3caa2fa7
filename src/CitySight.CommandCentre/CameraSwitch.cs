namespace CitySight.CommandCentre;

/// <summary>
/// Switches a camera on or off as the admin API's SetCameraEnabled does (in memory, until the next reload or restart),
/// and answers the camera as it is afterwards; null when no camera has that id. The host implements it.
/// </summary>
/// <exception cref="InvalidOperationException">The streams or the patrol have stopped: nothing can be switched.</exception>
public delegate Task<ConsoleCamera?> CameraSwitch(string cameraId, bool enabled, CancellationToken ct);
