using CitySight.CommandCentre.Api;

namespace CitySight.CommandCentre;

/// <summary>
/// The cameras' zones in their group files, for the zone editor. The host implements it: the files, their validation
/// and the reload that applies them are the configuration's and the admin API's, which the console does not know.
/// </summary>
public interface ICameraZoneBook
{
    /// <summary>The camera's zones as its file has them; null when no file defines the camera.</summary>
    CameraZones? Zones(string cameraId);

    /// <summary>
    /// Writes the camera's zones into its file when the whole configuration stays valid, then reloads it so they apply
    /// without a restart; null when no file defines the camera. <paramref name="by"/> names who saved, for the log.
    /// </summary>
    Task<ZoneSaveOutcome?> SaveAsync(string cameraId, IReadOnlyList<ConsoleZone> zones, string by, CancellationToken ct);
}
