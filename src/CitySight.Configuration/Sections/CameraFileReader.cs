using System.Text.RegularExpressions;
using CitySight.Domain;
using YamlDotNet.Core;

namespace CitySight.Configuration;

/// <summary>One camera group file: its group (routing fields, time zone, mode, camera defaults) and its cameras.</summary>
internal static partial class CameraFileReader
{
    /// <summary>Every camera property at its default (the Camera record's initialisers are their one home).</summary>
    private static Camera Blank => ConfigKeys.BlankCamera;

    /// <summary>Camera and group ids end up in file names, metrics labels and dispatch records: keep them plain.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    /// <summary>Ids already used, with where, so a duplicate can name both places.</summary>
    public sealed class Seen
    {
        // Case-insensitive: ids become file and folder names, and two ids differing only in case collide there.
        public Dictionary<string, string> Groups { get; } = new(StringComparer.OrdinalIgnoreCase);
        public Dictionary<string, string> Cameras { get; } = new(StringComparer.OrdinalIgnoreCase);
    }

    private static string Where(YamlSource src, Mark at) => $"{src.Display}:{at.Line}:{at.Column}";

    public static CameraGroup? ReadGroupFile(YamlSource src, IReadOnlyList<CaseType> caseTypes, TimeZoneInfo defaultTimeZone, Seen seen)
    {
        if (!src.TryLoad(out var root)) return null;
        if (root is null)
        {
            src.Error(YamlSource.FileStart, "", "file is empty; a camera group file needs 'group' and 'cameras'");
            return null;
        }
        if (Section.Open(src, root, "", YamlSource.FileStart, "") is not { } file) return null;

        string? groupId = null, groupName = null;
        string? district = null, street = null, grid = null, unit = null;
        var defaults = new CameraDefaults();
        var mode = Blank.Mode;
        var timeZone = defaultTimeZone;
        var known = caseTypes.Select(t => t.Id).ToList();

        if (!file.Has("group")) file.Required("group");
        else if (file.Child("group") is { } g)
        {
            groupId = g.Text("id", required: true)?.Trim();
            if (groupId is not null)
            {
                var at = g.Value("id")!.Start;
                if (!IdPattern().IsMatch(groupId))
                {
                    src.Error(at, g.Field("id"), $"'{YamlSource.Shorten(groupId)}' is not a valid id: start with a letter or digit, then letters, digits, '.', '_' or '-'");
                    groupId = null;
                }
                else if (seen.Groups.TryGetValue(groupId, out var first))
                    src.Error(at, g.Field("id"), $"duplicate group id '{groupId}' (also defined at {first})");
                else
                    seen.Groups[groupId] = Where(src, at);
            }
            groupName = g.Text("name", required: true);
            district = g.Text("district");
            street = g.Text("street");
            grid = g.Text("grid");
            unit = g.Text("responsible_unit");
            timeZone = g.TimeZone("timezone") ?? defaultTimeZone;
            mode = g.Choice<IngestMode>("mode") ?? mode;
            if (g.Child("defaults") is { } d)
            {
                defaults = new CameraDefaults(
                    d.Duration("sample_interval"),
                    d.KnownCaseTypes("detectors", known),
                    d.Bool("real_time"),
                    d.Bool("loop"),
                    d.Bool("enabled"),
                    d.Choice<DecoderKind>("decoder"));
            }
        }

        var cameras = new List<Camera>();
        if (file.List("cameras") is { } seq)
        {
            var i = 0;
            foreach (var item in seq.Children)
            {
                var path = $"cameras[{i++}]";
                if (Section.Open(src, item, path, item.Start, "cameras[]") is { } cam
                    && ReadCamera(cam, groupId ?? "", mode, timeZone, defaults, known, seen) is { } c)
                    cameras.Add(c);
            }
        }

        return new CameraGroup
        {
            Id = groupId ?? "",
            Name = groupName ?? "",
            District = district,
            Street = street,
            Grid = grid,
            ResponsibleUnit = unit,
            TimeZone = timeZone,
            Cameras = cameras,
        };
    }

    private sealed record CameraDefaults(
        TimeSpan? SampleInterval = null,
        List<string>? Detectors = null,
        bool? RealTime = null,
        bool? Loop = null,
        bool? Enabled = null,
        DecoderKind? Decoder = null);

    private static Camera? ReadCamera(Section cam, string groupId, IngestMode mode, TimeZoneInfo timeZone, CameraDefaults defaults, IReadOnlyList<string> known, Seen seen)
    {
        var src = cam.Src;

        var id = cam.Text("id", required: true)?.Trim();
        if (id is not null)
        {
            var at = cam.Value("id")!.Start;
            if (!IdPattern().IsMatch(id))
                src.Error(at, cam.Field("id"), $"'{YamlSource.Shorten(id)}' is not a valid camera id: start with a letter or digit, then letters, digits, '.', '_' or '-'");
            else if (seen.Cameras.TryGetValue(id, out var first))
                src.Error(at, cam.Field("id"), $"duplicate camera id '{id}' (also defined at {first}); camera ids must be unique across all camera files");
            else
                seen.Cameras[id] = Where(src, at);
        }

        var name = cam.Text("name", required: true);
        var url = ReadUrl(cam, out var isFile);

        var lat = cam.Number("latitude", required: true);
        var lon = cam.Number("longitude", required: true);

        var interval = cam.Duration("sample_interval") ?? defaults.SampleInterval ?? Blank.SampleInterval;

        List<string>? detectors;
        if (cam.Has("detectors")) detectors = cam.KnownCaseTypes("detectors", known);
        else
        {
            detectors = defaults.Detectors;
            if (detectors is null) cam.Required("detectors", "set it on the camera or in group.defaults");
        }

        var loop = cam.Bool("loop");
        if (loop == true && url is not null && !isFile)
            src.Error(cam.Value("loop")!.Start, cam.Field("loop"), "applies to local video files only, not to a stream URL");

        var zones = ZoneReader.ReadZones(cam, known, detectors);
        var ground = GroundReader.ReadGround(cam, lat, lon);
        var startsAt = ReadStartsAt(cam, timeZone);
        if (startsAt is not null && url is not null && !isFile)
            src.Error(cam.Value("starts_at")!.Start, cam.Field("starts_at"), "applies to local video files only; a stream is timed by its arrival");

        return new Camera
        {
            Id = id ?? "",
            Name = name ?? "",
            GroupId = groupId,
            Url = url ?? "",
            Latitude = lat ?? 0,
            Longitude = lon ?? 0,
            TimeZone = timeZone,
            Ground = ground,
            SampleInterval = interval,
            Detectors = detectors ?? [],
            Zones = zones,
            RealTime = cam.Bool("real_time") ?? defaults.RealTime ?? Blank.RealTime,
            Loop = loop ?? defaults.Loop ?? Blank.Loop,
            StartsAt = startsAt,
            Enabled = cam.Bool("enabled") ?? defaults.Enabled ?? Blank.Enabled,
            Mode = mode,
            Decoder = cam.Choice<DecoderKind>("decoder") ?? defaults.Decoder ?? Blank.Decoder,
        };
    }

    /// <summary>
    /// A recorded file's start: ISO 8601, with an offset (2026-11-23T14:00:00+08:00) or without one, then in the camera's
    /// local time zone (the one its zone schedules use).
    /// </summary>
    private static DateTimeOffset? ReadStartsAt(Section cam, TimeZoneInfo timeZone)
    {
        if (cam.Text("starts_at") is not { } raw) return null;
        raw = raw.Trim();
        var styles = System.Globalization.DateTimeStyles.AllowWhiteSpaces;
        var formats = new[] { "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm" };
        var zoned = System.Text.RegularExpressions.Regex.IsMatch(raw, @"(Z|[+-]\d{2}:?\d{2})$");
        if (zoned && DateTimeOffset.TryParse(raw, System.Globalization.CultureInfo.InvariantCulture, styles, out var withOffset))
            return withOffset;
        if (!zoned && DateTime.TryParseExact(raw, formats, System.Globalization.CultureInfo.InvariantCulture, styles, out var local))
            return new DateTimeOffset(local, timeZone.GetUtcOffset(local));
        cam.Src.Error(cam.Value("starts_at")!.Start, cam.Field("starts_at"),
            $"'{raw}' is not a time; expected ISO 8601 such as 2026-11-23T14:00:00+08:00 (without an offset: the camera's time zone, {timeZone.Id})");
        return null;
    }


    /// <summary>rtsp:// or rtsps:// with a host (kept as written), or an existing video file (made absolute).</summary>
    private static string? ReadUrl(Section cam, out bool isFile)
    {
        isFile = false;
        if (cam.Text("url", required: true) is not { } raw) return null;
        var src = cam.Src;
        var at = cam.Value("url")!.Start;
        var field = cam.Field("url");
        raw = raw.Trim();
        if (raw.Any(char.IsWhiteSpace))
        {
            // Uri would quietly escape a space, and a stray quote or comment glued to a URL is almost always a typo.
            src.Error(at, field, $"must not contain spaces (got {Secrets.RedactUrl(raw)}); percent-encode them as %20 in a URL");
            return null;
        }

        var schemeEnd = raw.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd >= 0)
        {
            var scheme = raw[..schemeEnd].ToLowerInvariant();
            if (scheme is not ("rtsp" or "rtsps"))
            {
                src.Error(at, field, $"unsupported URL scheme '{YamlSource.Shorten(scheme)}' in {Secrets.RedactUrl(raw)}; use rtsp://, rtsps:// or a local video file path");
                return null;
            }
            if (!Uri.TryCreate(raw, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            {
                src.Error(at, field, $"{Secrets.RedactUrl(raw)} is not a valid {scheme} URL: it needs a host, e.g. {scheme}://192.0.2.10:554/stream");
                return null;
            }
            return raw;
        }

        isFile = true;
        var full = src.Resolve(raw);
        if (!File.Exists(full))
        {
            src.Error(at, field, $"no such video file: {raw} (looked for {full}); url must be rtsp://, rtsps:// or a video file path relative to this file");
            return null;
        }
        return full;
    }
}
