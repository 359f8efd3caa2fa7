using CitySight.CommandCentre;
using CitySight.CommandCentre.Api;
using CitySight.Configuration;
using CitySight.Domain;
using Microsoft.Extensions.Logging;

namespace CitySight.Service.Admin;

/// <summary>
/// The zone editor's files for the console: a camera's zones read from the group file that defines it, and saved there
/// (<see cref="CameraZoneFiles"/>: validated with the whole configuration, written atomically), then applied by the admin
/// API's reload, the same one <c>citysight admin reload</c> runs, so the streams, the patrol and the rules take them
/// without a restart. One save at a time.
/// </summary>
public sealed class ConsoleZoneBook(CameraDirectory directory, CameraAdministrator admin, ILogger<ConsoleZoneBook> logger) : ICameraZoneBook
{
    private readonly SemaphoreSlim _saving = new(1, 1);

    public CameraZones? Zones(string cameraId)
    {
        var config = directory.Config;
        if (directory.Find(cameraId) is not { } camera || CameraZoneFiles.FileOf(config.CamerasDir, camera.Id) is not { } file) return null;
        var zones = ZoneYaml.Read(File.ReadAllText(file), camera.Id) ?? [];
        var names = camera.Detectors.Select(config.FindCaseType).OfType<CaseType>().ToDictionary(t => t.Id, t => new CaseTypeName(t.NameZh, t.NameEn));
        return new CameraZones(camera.Id, camera.GroupId, Relative(config, file), camera.Detectors, names, zones.Select(z => Console(z, camera)).ToList());
    }

    public async Task<ZoneSaveOutcome?> SaveAsync(string cameraId, IReadOnlyList<ConsoleZone> zones, string by, CancellationToken ct)
    {
        await _saving.WaitAsync(ct);
        try
        {
            var config = directory.Config;
            if (directory.Find(cameraId) is not { } camera || CameraZoneFiles.FileOf(config.CamerasDir, camera.Id) is not { } file) return null;
            var specs = zones.Select(z => new ZoneSpec(z.Id.Trim(), z.Points.Select(p => new NormalisedPoint(p[0], p[1])).ToList(),
                z.AllCaseTypes ? null : z.CaseTypes, z.Exclude, string.IsNullOrWhiteSpace(z.Schedule) ? null : z.Schedule.Trim())).ToList();
            var result = CameraZoneFiles.Save(config.SourceFile, file, camera.Id, specs);
            if (!result.Saved)
            {
                logger.LogInformation("Zones of camera {Camera} not saved ({By}): {Count} configuration error(s)", camera.Id, by, result.Errors.Count);
                return new ZoneSaveOutcome(null, result.Errors.Select(e => Relative(config, e.ToString())).ToList());
            }
            logger.LogInformation("Zones of camera {Camera} saved to {File} by {By}: {Count} zone(s); reloading", camera.Id, Relative(config, file), by, specs.Count);
            var reload = await admin.ReloadAsync(ct);
            if (!reload.Ok)
                // Another file broke between the validation and the reload: the zones are in the file, not in force.
                return new ZoneSaveOutcome(null, ["saved, but the reload refused the configuration: nothing applied", .. reload.Errors.Select(e => Relative(config, e))]);
            return new ZoneSaveOutcome(Zones(camera.Id), []);
        }
        catch (CameraAdminException e)
        {
            return new ZoneSaveOutcome(null, [$"saved, but not applied: {e.Message}"]);
        }
        finally
        {
            _saving.Release();
        }
    }

    private static ConsoleZone Console(ZoneSpec z, Camera camera) => new(
        z.Name, z.CaseTypes ?? camera.Detectors, z.Polygon.Select(p => new[] { p.X, p.Y }).ToList(), z.Exclude, z.Schedule, z.CaseTypes is null);

    /// <summary>Paths as the operator knows them, from citysight.yaml's folder (cameras/street.yaml), not the server's whole tree.</summary>
    private static string Relative(CitySightConfig config, string text)
    {
        var root = Path.GetDirectoryName(config.SourceFile);
        if (string.IsNullOrEmpty(root)) return text;
        var prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        return text.Replace(prefix, "", StringComparison.Ordinal);
    }
}
