using CitySight.Domain;
using static CitySight.Configuration.ConfigKeyKind;

namespace CitySight.Configuration;

/// <summary>The keys of a camera group file (see the recipe in ConfigKeys.cs). Defaults live on Camera and CameraGroup.</summary>
public static partial class ConfigKeys
{
    private const ConfigFile G = ConfigFile.CameraGroup;

    /// <summary>A camera with every property at its default, for the keys' defaults (and the loader's).</summary>
    internal static readonly Camera BlankCamera = new() { Id = "", Name = "", GroupId = "", Url = "" };

    private static IEnumerable<ConfigKey> CameraFile()
    {
        yield return Container(G, "group", Mapping, "The group: its id, routing fields, local time, ingest mode and camera defaults.");
        var group = new KeysOf<CameraGroup>(G, new() { Id = "", Name = "" }, c => c.Groups[0]);
        yield return group.Key("group.id", Text, g => g.Id, "Unique across all files (case-insensitive).", "g2", required: true);
        yield return group.Key("group.name", Text, g => g.Name, "Human-readable name.", "Other group", required: true);
        yield return group.Key("group.district", Text, g => g.District, "Routing field copied onto every case.", "徐汇区");
        yield return group.Key("group.street", Text, g => g.Street, "Routing field copied onto every case.", "田林街道");
        yield return group.Key("group.grid", Text, g => g.Grid, "Routing field copied onto every case (quote a numeric code).", "\"310104-001\"");
        yield return group.Key("group.responsible_unit", Text, g => g.ResponsibleUnit, "Routing field copied onto every case.", "田林街道城管中队");
        yield return group.Key("group.timezone", Text, g => g.TimeZone.Id, "Local time of this group's zone schedules; default service.timezone.", "Asia/Urumqi", hasDefault: false);
        var camera = new KeysOf<Camera>(G, BlankCamera, c => c.Cameras.First());
        yield return camera.Choice("group.mode", c => c.Mode, "continuous: streams stay open; patrol: cameras are visited in turn.", "patrol");
        yield return Container(G, "group.defaults", Mapping, "Applied to each camera of the group that does not set them.");
        yield return camera.Key("group.defaults.sample_interval", Duration, c => c.SampleInterval, "Default of cameras[].sample_interval.", "5s", min: 0, minExclusive: true);
        yield return camera.Key("group.defaults.detectors", TextList, c => string.Join(";", c.Detectors), "Default of cameras[].detectors.", "[garbage]", hasDefault: false);
        yield return camera.Key("group.defaults.real_time", Bool, c => c.RealTime, "Default of cameras[].real_time.", "false");
        yield return camera.Key("group.defaults.loop", Bool, c => c.Loop, "Default of cameras[].loop.", "true");
        yield return camera.Key("group.defaults.enabled", Bool, c => c.Enabled, "Default of cameras[].enabled.", "false");
        yield return camera.Choice("group.defaults.decoder", c => c.Decoder, "Default of cameras[].decoder.", "cuda");

        yield return Container(G, "cameras", List, "The group's cameras.");
        yield return camera.Key("cameras[].id", Text, c => c.Id, "Unique across all camera files (case-insensitive).", "c2", required: true);
        yield return camera.Key("cameras[].name", Text, c => c.Name, "Human-readable name.", "Other camera", required: true);
        yield return camera.Key("cameras[].url", Text, c => c.Url, "rtsp:// or rtsps:// URL, or a local video file.", "rtsp://192.0.2.20/stream", required: true);
        yield return camera.Key("cameras[].latitude", Number, c => c.Latitude, "WGS84 latitude.", "31.3", min: -90, max: 90, required: true);
        yield return camera.Key("cameras[].longitude", Number, c => c.Longitude, "WGS84 longitude.", "121.5", min: -180, max: 180, required: true);
        yield return camera.Key("cameras[].sample_interval", Duration, c => c.SampleInterval, "How often a frame is taken for detection.", "5s", min: 0, minExclusive: true);
        yield return camera.Key("cameras[].detectors", TextList, c => string.Join(";", c.Detectors), "Case type ids this camera looks for.", "[garbage]", hasDefault: false);
        yield return camera.Key("cameras[].enabled", Bool, c => c.Enabled, "A disabled camera is configured but not read.", "false");
        yield return camera.Key("cameras[].real_time", Bool, c => c.RealTime, "Local files: play at the file's own frame rate.", "false");
        yield return camera.Key("cameras[].loop", Bool, c => c.Loop, "Local files: start again at the end.", "true");
        yield return camera.Choice("cameras[].decoder", c => c.Decoder, "ffmpeg decoder: the matching hardware decoder.", "cuda");
        yield return Container(G, "cameras[].zones", List, "Where and when each case type may be raised on this camera.");
        var zone = new KeysOf<Zone>(G, new("", [], []), c => c.Cameras.First().Zones[0]);
        yield return zone.Key("cameras[].zones[].name", Text, z => z.Name, "Unique within the camera.", "z2", required: true);
        yield return zone.Key("cameras[].zones[].polygon", Structured, z => string.Join(";", z.Polygon), "At least 3 image points [x, y], each 0..1.", "[[0, 0], [0.5, 0], [0.5, 0.5]]", required: true);
        yield return zone.Key("cameras[].zones[].case_types", TextList, z => string.Join(";", z.CaseTypes), "Case types the zone applies to; default: the camera's detectors.", "[garbage]", hasDefault: false);
        yield return zone.Key("cameras[].zones[].exclude", Bool, z => z.Exclude, "An exclude zone: its case types are not raised inside it.", "true");
        yield return zone.Key("cameras[].zones[].schedule", Structured, z => z.Schedule?.ToString(), "When the zone is in force; default always.", "\"06:00-22:00\"");
        yield return zone.Key("cameras[].zones[].schedule.days", TextList, z => z.Schedule?.ToString(), "Days of a {days, hours} entry; default every day.", "[sat]", hasDefault: false);
        yield return zone.Key("cameras[].zones[].schedule.hours", TextList, z => z.Schedule?.ToString(), "Windows of a {days, hours} entry; default all day.", "[\"09:00-10:00\"]", hasDefault: false);
        yield return Container(G, "cameras[].ground", List, "Image points with their WGS84 position: the camera's ground mapping.");
        var ground = new KeysOf<GroundPoint>(G, default, c => c.Cameras.First().Ground[0]);
        yield return ground.Key("cameras[].ground[].image", Structured, p => p.Image, "[x, y] on the image, each 0..1.", "[0.15, 0.95]", required: true);
        yield return ground.Key("cameras[].ground[].lat", Number, p => p.Latitude, "WGS84 latitude, within 5 km of the camera.", "31.1999", min: -90, max: 90, required: true);
        yield return ground.Key("cameras[].ground[].lon", Number, p => p.Longitude, "WGS84 longitude.", "121.3999", min: -180, max: 180, required: true);
        yield return camera.Key("cameras[].starts_at", Text, c => c.StartsAt, "Local files: when the first frame was taken (ISO 8601).", "2026-11-23T14:00:00+08:00", hasDefault: false);
    }
}
