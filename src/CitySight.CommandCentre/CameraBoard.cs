namespace CitySight.CommandCentre;

/// <summary>
/// Every configured camera with its state now, as the host knows them (streams, the patrol, the admin API's switches).
/// The host implements it: the console knows nothing of ingest. Reasons must come without camera URLs.
/// </summary>
public delegate IReadOnlyList<ConsoleCamera> CameraBoard();
