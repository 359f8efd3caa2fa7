using CitySight.Domain;

namespace CitySight.Configuration.Tests;

/// <summary>Saving a camera's zones rewrites only its zones block: every other byte of the file stays.</summary>
public class ZoneYamlTests
{
    private const string File1 = """
        # Street cameras: the header comment stays.
        group:
          id: g1
          name: Street   # trailing comment stays
          defaults:
            detectors: [illegal_parking, garbage]
        cameras:
          - id: cam-a
            name: Camera A
            url: rtsp://192.0.2.1/a
            latitude: 31.2
            longitude: 121.4
            zones:            # the zones of A
              - name: old-zone
                polygon: [[0.0, 0.3], [1.0, 0.3], [1.0, 1.0]]   # lower part
                case_types: [illegal_parking]
              # a commented-out zone after the last item stays too
              # - name: later
          # Camera B: no zones yet.
          - id: cam-b
            name: Camera B
            url: rtsp://192.0.2.1/b
            latitude: 31.3
            longitude: 121.5
            detectors: [garbage]   # B only looks for garbage
          - {id: cam-c, name: Camera C, url: rtsp://192.0.2.1/c, latitude: 31.4, longitude: 121.6, zones: [{name: f, polygon: [[0, 0], [1, 0], [1, 1]]}]}
          - {id: cam-d, name: Camera D, url: rtsp://192.0.2.1/d, latitude: 31.5, longitude: 121.7}
        """;

    private static readonly ZoneSpec Bay = new("bay-1", [new(0.1, 0.5), new(0.4, 0.5), new(0.4, 0.9), new(0.1, 0.9)], ["illegal_parking"],
        Exclude: true, Schedule: "07:00-10:00");

    private static readonly ZoneSpec Pile = new("堆物区", [new(0.5, 0.5), new(0.9, 0.5), new(0.7, 0.95)], null,
        Schedule: "[{days: [sat, sun], hours: [\"08:00-20:00\"]}]");

    [Fact]
    public void A_block_list_is_replaced_in_place_and_every_other_line_stays()
    {
        var saved = ZoneYaml.Splice(File1, "cam-a", [Bay, Pile]);

        var expected = File1.Replace("""
                  - name: old-zone
                    polygon: [[0.0, 0.3], [1.0, 0.3], [1.0, 1.0]]   # lower part
                    case_types: [illegal_parking]
            """, """
                  - name: bay-1
                    polygon: [[0.1, 0.5], [0.4, 0.5], [0.4, 0.9], [0.1, 0.9]]
                    case_types: [illegal_parking]
                    exclude: true
                    schedule: "07:00-10:00"
                  - name: "堆物区"
                    polygon: [[0.5, 0.5], [0.9, 0.5], [0.7, 0.95]]
                    schedule: [{days: [sat, sun], hours: ["08:00-20:00"]}]
            """);
        // The old last line's trailing comment is content of the block: it goes with it.
        Assert.Equal(expected.Replace("   # lower part", ""), saved);
        Assert.Equal(new[] { Bay, Pile }.Select(Text), ZoneYaml.Read(saved, "cam-a")!.Select(Text));
        Assert.Equal(ZoneYaml.Read(File1, "cam-b"), ZoneYaml.Read(saved, "cam-b"));
    }

    [Fact]
    public void A_zone_saved_as_it_was_keeps_its_text_and_comments()
    {
        var old = ZoneYaml.Read(File1, "cam-a")!.Single();

        var saved = ZoneYaml.Splice(File1, "cam-a", [old, Bay]);

        Assert.Equal(File1.Replace("""
                    case_types: [illegal_parking]
                  # a commented-out zone
            """, """
                    case_types: [illegal_parking]
                  - name: bay-1
                    polygon: [[0.1, 0.5], [0.4, 0.5], [0.4, 0.9], [0.1, 0.9]]
                    case_types: [illegal_parking]
                    exclude: true
                    schedule: "07:00-10:00"
                  # a commented-out zone
            """), saved);
        Assert.Equal(File1, ZoneYaml.Splice(File1, "cam-a", [old]));
    }

    [Fact]
    public void A_camera_without_zones_gets_them_after_its_last_key_and_the_comments_around_stay()
    {
        var saved = ZoneYaml.Splice(File1, "CAM-B", [Bay with { CaseTypes = ["garbage"] }]);

        Assert.Equal(File1.Replace("""
                detectors: [garbage]   # B only looks for garbage

            """, """
                detectors: [garbage]   # B only looks for garbage
                zones:
                  - name: bay-1
                    polygon: [[0.1, 0.5], [0.4, 0.5], [0.4, 0.9], [0.1, 0.9]]
                    case_types: [garbage]
                    exclude: true
                    schedule: "07:00-10:00"

            """), saved);
    }

    [Fact]
    public void Flow_style_cameras_keep_their_style()
    {
        var replaced = ZoneYaml.Splice(File1, "cam-c", [Bay]);
        var added = ZoneYaml.Splice(File1, "cam-d", [Pile]);

        Assert.Equal(File1.Replace("zones: [{name: f, polygon: [[0, 0], [1, 0], [1, 1]]}]}",
            "zones: [{name: bay-1, polygon: [[0.1, 0.5], [0.4, 0.5], [0.4, 0.9], [0.1, 0.9]], case_types: [illegal_parking], exclude: true, schedule: \"07:00-10:00\"}]}"),
            replaced);
        Assert.Equal(File1.Replace("longitude: 121.7}",
            "longitude: 121.7, zones: [{name: \"堆物区\", polygon: [[0.5, 0.5], [0.9, 0.5], [0.7, 0.95]], schedule: [{days: [sat, sun], hours: [\"08:00-20:00\"]}]}]}"),
            added);
    }

    [Fact]
    public void No_zones_left_is_an_empty_list_and_windows_line_endings_stay()
    {
        var crlf = File1.ReplaceLineEndings("\r\n");

        var saved = ZoneYaml.Splice(crlf, "cam-a", []);

        Assert.DoesNotContain("old-zone", saved);
        Assert.Contains("zones:            # the zones of A\r\n      []\r\n", saved);
        Assert.DoesNotContain("\n", saved.Replace("\r\n", ""));
        Assert.Empty(ZoneYaml.Read(saved, "cam-a")!);
        Assert.Null(ZoneYaml.Read(saved, "cam-x"));
        Assert.Throws<ArgumentException>(() => ZoneYaml.Splice(crlf, "cam-x", [Bay]));
    }

    [Fact]
    public void Zones_read_as_written_with_no_case_types_as_null()
    {
        var zones = ZoneYaml.Read(File1, "cam-c")!;

        var zone = Assert.Single(zones);
        Assert.Equal("f", zone.Name);
        Assert.Null(zone.CaseTypes);
        Assert.False(zone.Exclude);
        Assert.Equal([new NormalisedPoint(0, 0), new(1, 0), new(1, 1)], zone.Polygon);
    }

    [Fact]
    public void Saving_writes_the_file_once_the_whole_configuration_is_valid_and_keeps_its_permissions()
    {
        var cfg = new TestConfig();
        var path = cfg.Camera("street.yaml", File1);
        var other = cfg.Camera("other.yaml", "# other file\ngroup: {id: g2, name: Other}\ncameras: []\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        Assert.Equal(Path.GetFullPath(path), CameraZoneFiles.FileOf(cfg.CamerasDir, "cam-b"));
        Assert.Null(CameraZoneFiles.FileOf(cfg.CamerasDir, "cam-x"));
        var result = CameraZoneFiles.Save(cfg.MainPath, path, "cam-a", [Bay]);

        Assert.True(result.Saved, string.Join("\n", result.Errors));
        Assert.Equal(ZoneYaml.Splice(File1, "cam-a", [Bay]), File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(path));
        Assert.Equal("# other file\ngroup: {id: g2, name: Other}\ncameras: []\n", File.ReadAllText(other));
        Assert.Equal(["street.yaml", "other.yaml"], Directory.GetFiles(cfg.CamerasDir).Select(Path.GetFileName).OrderDescending());
        var camera = cfg.Load().Config!.Cameras.Single(c => c.Id == "cam-a");
        var zone = Assert.Single(camera.Zones);
        Assert.True(zone.Exclude);
        Assert.Equal("every day 07:00-10:00", zone.Schedule!.ToString());
    }

    [Fact]
    public void An_invalid_zone_is_refused_with_file_line_and_column_and_the_file_is_not_touched()
    {
        var cfg = new TestConfig();
        var path = cfg.Camera("street.yaml", File1);
        var before = File.ReadAllBytes(path);

        // B does not look for illegal parking; the schedule is not a window; two points are no polygon.
        var result = CameraZoneFiles.Save(cfg.MainPath, path, "cam-b",
            [Bay, new ZoneSpec("thin", [new(0, 0), new(1, 1)], Schedule: "7-10")]);

        Assert.False(result.Saved);
        var errors = result.Errors.Select(e => e.ToString()).ToList();
        var spliced = ZoneYaml.Splice(File1, "cam-b", [Bay, new ZoneSpec("thin", [new(0, 0), new(1, 1)], Schedule: "7-10")]);
        var at = spliced.IndexOf("case_types", spliced.IndexOf("- name: bay-1", StringComparison.Ordinal), StringComparison.Ordinal);
        var line = spliced[..at].Count(c => c == '\n') + 1;
        Assert.Contains(errors, e => e.StartsWith($"{path}:{line}:", StringComparison.Ordinal) && e.Contains("not among this camera's detectors"));
        Assert.Contains(errors, e => e.Contains("cameras[1].zones[1].polygon") && e.Contains("at least 3 points"));
        Assert.Contains(errors, e => e.Contains("cameras[1].zones[1].schedule"));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(cfg.CamerasDir));
    }

    [Fact]
    public void A_schedule_that_would_reach_beyond_the_zones_block_is_refused()
    {
        var cfg = new TestConfig();
        var path = cfg.Camera("street.yaml", File1);
        var before = File.ReadAllBytes(path);

        var result = CameraZoneFiles.Save(cfg.MainPath, path, "cam-d", [Bay with { Schedule = "[]}], enabled: false, x: [{a: b" }]);

        Assert.False(result.Saved);
        Assert.Contains("is not one YAML list or mapping", Assert.Single(result.Errors).Message);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    private static string Text(ZoneSpec z) =>
        $"{z.Name}|{string.Join(";", z.Polygon)}|{(z.CaseTypes is null ? "-" : string.Join(",", z.CaseTypes))}|{z.Exclude}|{z.Schedule}";
}
