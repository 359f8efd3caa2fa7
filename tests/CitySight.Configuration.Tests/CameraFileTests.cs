using CitySight.Configuration;
using CitySight.Domain;

namespace CitySight.Configuration.Tests;

public class CameraFileTests
{
    private const string Group = "group:\n  id: g1\n  name: Group one\ncameras:\n";

    /// <summary>A valid camera item; <paramref name="replace"/> swaps or adds lines ("key: value" replaces that key; null value drops it).</summary>
    private static string Camera(params (string Key, string? Line)[] replace)
    {
        var lines = new List<(string Key, string? Line)>
        {
            ("id", "id: cam-1"),
            ("name", "name: Camera one"),
            ("url", "url: rtsp://192.0.2.10:554/stream"),
            ("latitude", "latitude: 31.2"),
            ("longitude", "longitude: 121.4"),
            ("detectors", "detectors: [illegal_parking]"),
        };
        foreach (var (key, line) in replace)
        {
            var i = lines.FindIndex(l => l.Key == key);
            if (i >= 0) lines[i] = (key, line);
            else lines.Add((key, line));
        }
        return "  - " + string.Join("\n    ", lines.Where(l => l.Line is not null).Select(l => l.Line)) + "\n";
    }

    private const string Zone = "\n      - name: z1\n        polygon: [[0, 0], [1, 0], [1, 1]]\n        case_types: [illegal_parking]";

    // yaml: a camera group file whose offending line carries "#<"; at: where on that line the error must point.
    public static TheoryData<string, string, string, string> BadCameraFiles => new()
    {
        { "cameras: [] #<\n", "group", "cameras", "is required" },
        { "group: #<\n  name: G\ncameras: []\n", "group.id", "group", "is required" },
        { "group: #<\n  id: g1\ncameras: []\n", "group.name", "group", "is required" },
        { "group:\n  id: g1\n  name: G\n  owner: me #<\ncameras: []\n", "group.owner", "owner", "allowed: id, name, district, street, grid, responsible_unit, mode, defaults" },
        { "group:\n  id: g 1 #<\n  name: G\ncameras: []\n", "group.id", "g 1", "not a valid id" },
        { "group:\n  id: g1\n  name: G\n  defaults:\n    sample_interval: 0 #<\ncameras: []\n", "group.defaults.sample_interval", "0", "must be greater than 0" },
        { "group:\n  id: g1\n  name: G\ncameras: {id: x} #<\n", "cameras", "{", "expected a list" },
        { Group + Camera(("id", null), ("name", "name: Camera one #<")), "cameras[0].id", "name", "is required" },
        { Group + Camera(("id", "id: cam/1 #<")), "cameras[0].id", "cam/1", "not a valid camera id" },
        { Group + Camera(("name", null), ("id", "id: cam-1 #<")), "cameras[0].name", "id", "is required" },
        { Group + Camera(("url", null), ("id", "id: cam-1 #<")), "cameras[0].url", "id", "is required" },
        { Group + Camera(("url", "url: rtsp:///stream #<")), "cameras[0].url", "rtsp:", "needs a host" },
        { Group + Camera(("url", "url: http://192.0.2.10/x #<")), "cameras[0].url", "http:", "unsupported URL scheme 'http'" },
        { Group + Camera(("url", "url: rtsp://192.0.2.10/my stream #<")), "cameras[0].url", "rtsp:", "must not contain spaces" },
        { Group + Camera(("url", "url: videos/missing.mp4 #<")), "cameras[0].url", "videos/", "no such video file: videos/missing.mp4" },
        { Group + Camera(("latitude", "latitude: 123.4 #<")), "cameras[0].latitude", "123.4", "must be between -90 and 90 (got 123.4)" },
        { Group + Camera(("latitude", "latitude: north #<")), "cameras[0].latitude", "north", "expected a number (got 'north')" },
        { Group + Camera(("latitude", null), ("id", "id: cam-1 #<")), "cameras[0].latitude", "id", "is required" },
        { Group + Camera(("longitude", "longitude: -200 #<")), "cameras[0].longitude", "-200", "must be between -180 and 180 (got -200)" },
        { Group + Camera(("longitude", null), ("id", "id: cam-1 #<")), "cameras[0].longitude", "id", "is required" },
        { Group + Camera(("sample_interval", "sample_interval: 0s #<")), "cameras[0].sample_interval", "0s", "must be greater than 0 (got 0s)" },
        { Group + Camera(("sample_interval", "sample_interval: fast #<")), "cameras[0].sample_interval", "fast", "expected a duration" },
        { Group + Camera(("detectors", "detectors: [illegal_parkin] #<")), "cameras[0].detectors[0]", "illegal_parkin", "unknown case type 'illegal_parkin'; did you mean 'illegal_parking'?" },
        { Group + Camera(("detectors", "detectors: [] #<")), "cameras[0].detectors", "[]", "must name at least one case type" },
        { Group + Camera(("detectors", null), ("id", "id: cam-1 #<")), "cameras[0].detectors", "id", "set it on the camera or in group.defaults" },
        { Group + Camera(("enabled", "enabled: yes #<")), "cameras[0].enabled", "yes", "expected true or false" },
        { Group + Camera(("loop", "loop: true #<")), "cameras[0].loop", "true", "local video files only" },
        { Group + Camera(("lattitude", "lattitude: 1 #<")), "cameras[0].lattitude", "lattitude", "unknown key 'lattitude'; did you mean 'latitude'? allowed: id, name, url, latitude" },
        { Group + Camera(("zones", "zones:\n      - polygon: [[0, 0], [1, 0], [1, 1]] #<")), "cameras[0].zones[0].name", "polygon", "is required" },
        { Group + Camera(("zones", "zones:" + Zone + Zone.Replace("name: z1", "name: z1 #<"))), "cameras[0].zones[1].name", "z1", "duplicate zone name 'z1' on this camera (first at line" },
        { Group + Camera(("zones", "zones:" + Zone.Replace("polygon: [[0, 0], [1, 0], [1, 1]]", "polygon: [[0, 0], [1, 0]] #<"))), "cameras[0].zones[0].polygon", "[[", "needs at least 3 points (got 2)" },
        { Group + Camera(("zones", "zones:" + Zone.Replace("polygon: [[0, 0], [1, 0], [1, 1]]", "polygon: [[0, 0], [1.2, 0.5], [1, 1]] #<"))), "cameras[0].zones[0].polygon[1]", "[1.2", "between 0 and 1" },
        { Group + Camera(("zones", "zones:" + Zone.Replace("polygon: [[0, 0], [1, 0], [1, 1]]", "polygon: [[0, 0], [1, 0, 0], [1, 1]] #<"))), "cameras[0].zones[0].polygon[1]", "[1, 0, 0]", "expected a point [x, y]" },
        { Group + Camera(("zones", "zones:" + Zone.Replace("polygon: [[0, 0], [1, 0], [1, 1]]", "polygon: [[0, 0], [0.5, 0.5], [1, 1]] #<"))), "cameras[0].zones[0].polygon", "[[", "has no area" },
        { Group + Camera(("zones", "zones:" + Zone.Replace("polygon: [[0, 0], [1, 0], [1, 1]]", "polygon: {x: 1} #<"))), "cameras[0].zones[0].polygon", "{", "expected a list" },
        { Group + Camera(("zones", "zones:" + Zone.Replace("        polygon: [[0, 0], [1, 0], [1, 1]]\n", "").Replace("- name: z1", "- name: z1 #<"))), "cameras[0].zones[0].polygon", "name", "is required" },
        { Group + Camera(("zones", "zones:" + Zone.Replace("case_types: [illegal_parking]", "case_types: [graffiti] #<"))), "cameras[0].zones[0].case_types[0]", "graffiti", "unknown case type 'graffiti'" },
        { Group + Camera(("zones", "zones:" + Zone.Replace("case_types: [illegal_parking]", "case_types: [] #<"))), "cameras[0].zones[0].case_types", "[]", "must name at least one case type" },
        { Group + Camera(("zones", "zones:" + Zone.Replace("case_types: [illegal_parking]", "case_types: [illegal_parking, garbage] #<"))), "cameras[0].zones[0].case_types[1]", "garbage", "not among this camera's detectors" },
        { Group + Camera(("zones", "zones:" + Zone.Replace("case_types: [illegal_parking]", "case_type: [illegal_parking] #<"))), "cameras[0].zones[0].case_type", "case_type", "did you mean 'case_types'?" },
        { Group + Camera() + Camera(("id", "id: cam-1 #<")), "cameras[1].id", "cam-1", "duplicate camera id 'cam-1' (also defined at " },
    };

    [Theory]
    [MemberData(nameof(BadCameraFiles))]
    public void Bad_camera_file_is_reported_at_its_line_and_column(string yaml, string field, string at, string message)
    {
        var t = new TestConfig();
        var file = t.Camera("street.yaml", yaml);
        var r = t.Load();
        var e = TestConfig.Single(r, field);
        var line = TestConfig.LineOf(yaml, "#<");
        Assert.Equal(file, e.File);
        Assert.Equal(line, e.Line);
        Assert.Equal(TestConfig.ColumnOf(yaml, line, at), e.Column);
        Assert.Contains(message, e.Message);
        Assert.StartsWith($"{file}:{line}:{e.Column}: {field}: ", e.ToString());
    }

    [Fact]
    public void A_valid_camera_maps_to_the_domain()
    {
        var t = new TestConfig();
        t.Camera("street.yaml", """
            group:
              id: g1
              name: Group one
              district: 黄浦区
              street: Nanjing Road
              grid: "310101001001"
              responsible_unit: Street team 3
            cameras:
              - id: cam-1
                name: Camera one
                url: rtsp://192.0.2.10:554/stream
                latitude: -33.5
                longitude: 151
                sample_interval: 500ms
                detectors: [garbage, street_stall]
                enabled: false
                real_time: false
                zones:
                  - name: pavement
                    polygon: [[0.1, 0.2], [0.9, 0.2], [0.5, 0.9]]
                    case_types: [street_stall]
                  - name: everything
                    polygon: [[0, 0], [1, 0], [1, 1], [0, 1]]
            """);
        var c = ConfigLoader.LoadOrThrow(t.MainPath);
        var g = Assert.Single(c.Groups);
        Assert.Equal(("g1", "Group one", "黄浦区", "Nanjing Road", "310101001001", "Street team 3"),
            (g.Id, g.Name, g.District, g.Street, g.Grid, g.ResponsibleUnit));
        var cam = Assert.Single(g.Cameras);
        Assert.Equal(("cam-1", "Camera one", "g1", "rtsp://192.0.2.10:554/stream"), (cam.Id, cam.Name, cam.GroupId, cam.Url));
        Assert.Equal((-33.5, 151.0), (cam.Latitude, cam.Longitude));
        Assert.Equal(TimeSpan.FromMilliseconds(500), cam.SampleInterval);
        Assert.Equal(["garbage", "street_stall"], cam.Detectors);
        Assert.False(cam.Enabled);
        Assert.False(cam.RealTime);
        Assert.Equal(2, cam.Zones.Count);
        Assert.Equal([new(0.1, 0.2), new(0.9, 0.2), new(0.5, 0.9)], cam.Zones[0].Polygon);
        Assert.Equal(["street_stall"], cam.Zones[0].CaseTypes);
        // A zone without case_types applies to everything the camera detects.
        Assert.Equal(["garbage", "street_stall"], cam.Zones[1].CaseTypes);
    }

    [Fact]
    public void Group_defaults_apply_unless_the_camera_sets_the_field()
    {
        var t = new TestConfig();
        t.Camera("street.yaml", """
            group:
              id: g1
              name: Group one
              defaults:
                sample_interval: 2s
                detectors: [billboard]
                real_time: false
                enabled: false
            cameras:
              - {id: a, name: A, url: "rtsp://192.0.2.1/a", latitude: 1, longitude: 2}
              - {id: b, name: B, url: "rtsp://192.0.2.1/b", latitude: 1, longitude: 2, sample_interval: 5s, detectors: [garbage], real_time: true, enabled: true}
            """);
        var cams = ConfigLoader.LoadOrThrow(t.MainPath).Cameras.ToList();
        Assert.Equal((TimeSpan.FromSeconds(2), "billboard", false, false),
            (cams[0].SampleInterval, cams[0].Detectors.Single(), cams[0].RealTime, cams[0].Enabled));
        Assert.Equal((TimeSpan.FromSeconds(5), "garbage", true, true),
            (cams[1].SampleInterval, cams[1].Detectors.Single(), cams[1].RealTime, cams[1].Enabled));
    }

    [Fact]
    public void Local_video_file_url_resolves_against_the_camera_file()
    {
        var t = new TestConfig();
        Directory.CreateDirectory(Path.Combine(t.Dir, "media"));
        var video = Path.Combine(t.Dir, "media", "clip.mp4");
        File.WriteAllBytes(video, [0]);
        t.Camera("street.yaml", Group + Camera(("url", "url: ../media/clip.mp4"), ("loop", "loop: true")));
        var cam = Assert.Single(ConfigLoader.LoadOrThrow(t.MainPath).Cameras);
        Assert.Equal(video, cam.Url);
        Assert.True(cam.Loop); // loop is fine on a file
    }

    [Fact]
    public void Case_types_added_in_the_main_file_can_be_detected()
    {
        var yaml = Group + Camera(("detectors", "detectors: [night_market]"));
        var without = new TestConfig();
        without.Camera("street.yaml", yaml);
        Assert.Contains("unknown case type 'night_market'", TestConfig.Single(without.Load(), "cameras[0].detectors[0]").Message);

        var with = new TestConfig("case_types:\n  - {id: night_market, code: \"0399\", name_zh: 夜市}\n");
        with.Camera("street.yaml", yaml);
        Assert.Equal(["night_market"], ConfigLoader.LoadOrThrow(with.MainPath).Cameras.Single().Detectors);
    }

    [Fact]
    public void Errors_in_several_files_are_all_reported()
    {
        var mainYaml = "rules:\n  confirm_samples: 0\n";
        var t = new TestConfig(mainYaml);
        var badValue = Group + Camera(("latitude", "latitude: 123.4 #<"));
        var a = t.Camera("a.yaml", badValue);
        var badSyntax = "group:\n  id: g2\n  name: G: two #<\ncameras: []\n";
        var b = t.Camera("b.yaml", badSyntax);
        t.Camera("c.yaml", Group.Replace("g1", "g3") + Camera(("id", "id: cam-3")));
        var d = t.Camera("d.yaml", Group.Replace("g1", "g4") + Camera(("id", "id: cam-4"), ("longitude", "longitude: 999 #<")));

        var r = t.Load();
        Assert.Null(r.Config);
        Assert.Equal(4, r.Errors.Count);
        Assert.Equal((t.MainPath, 2, "rules.confirm_samples"), (r.Errors[0].File, r.Errors[0].Line, r.Errors[0].Field));
        Assert.Equal((a, TestConfig.LineOf(badValue, "#<"), "cameras[0].latitude"), (r.Errors[1].File, r.Errors[1].Line, r.Errors[1].Field));
        Assert.Equal((b, TestConfig.LineOf(badSyntax, "#<")), (r.Errors[2].File, r.Errors[2].Line));
        Assert.StartsWith($"{b}:{r.Errors[2].Line}:{r.Errors[2].Column}: YAML syntax error", r.Errors[2].ToString());
        Assert.Equal((d, "cameras[0].longitude"), (r.Errors[3].File, r.Errors[3].Field));
    }

    [Fact]
    public void Unclosed_bracket_is_a_syntax_error_near_its_line()
    {
        // YamlDotNet reports this one without a position; the loader still gives the line where parsing stopped.
        var yaml = "group:\n  id: g1\n  name: G\ncameras:\n  - id: x\n    detectors: [garbage #<\n    name: X\n";
        var t = new TestConfig();
        var file = t.Camera("a.yaml", yaml);
        var e = Assert.Single(t.Load().Errors);
        var line = TestConfig.LineOf(yaml, "#<");
        Assert.Equal(file, e.File);
        Assert.InRange(e.Line, line, line + 1);
        Assert.Contains("YAML syntax error", e.Message);
    }

    [Fact]
    public void Duplicate_camera_id_across_files_names_both_places()
    {
        var t = new TestConfig();
        var first = Group + Camera(("id", "id: cam-1 #<"));
        var a = t.Camera("a.yaml", first);
        var second = Group.Replace("g1", "g2") + Camera(("id", "id: CAM-1 #<")); // ids collide case-insensitively
        var b = t.Camera("b.yaml", second);

        var e = TestConfig.Single(t.Load(), "cameras[0].id");
        var firstLine = TestConfig.LineOf(first, "#<");
        Assert.Equal((b, TestConfig.LineOf(second, "#<")), (e.File, e.Line));
        Assert.Contains($"also defined at {a}:{firstLine}:{TestConfig.ColumnOf(first, firstLine, "cam-1")}", e.Message);
    }

    [Fact]
    public void Duplicate_group_id_across_files_is_an_error()
    {
        var t = new TestConfig();
        var a = t.Camera("a.yaml", Group + Camera());
        var b = t.Camera("b.yaml", Group + Camera(("id", "id: cam-2")));
        var e = TestConfig.Single(t.Load(), "group.id");
        Assert.Equal((b, 2), (e.File, e.Line));
        Assert.Contains($"duplicate group id 'g1' (also defined at {a}:2:7)", e.Message);
    }

    [Fact]
    public void Empty_camera_file_is_an_error_naming_it()
    {
        var t = new TestConfig();
        var file = t.Camera("empty.yaml", "# to do\n");
        var e = Assert.Single(t.Load().Errors);
        Assert.Equal(file, e.File);
        Assert.Contains("file is empty", e.Message);
    }

    [Fact]
    public void Camera_files_are_named_relative_to_the_path_given()
    {
        var t = new TestConfig();
        var yaml = Group + Camera(("latitude", "latitude: 123.4 #<"));
        t.Camera("street.yaml", yaml);
        var line = TestConfig.LineOf(yaml, "#<");
        var given = Path.GetRelativePath(Environment.CurrentDirectory, t.MainPath);
        Assert.False(Path.IsPathRooted(given));

        var e = Assert.Single(ConfigLoader.Load(given).Errors);
        var expectedFile = Path.Combine(Path.GetDirectoryName(given)!, "cameras", "street.yaml");
        Assert.Equal($"{expectedFile}:{line}:{TestConfig.ColumnOf(yaml, line, "123.4")}: cameras[0].latitude: must be between -90 and 90 (got 123.4)", e.ToString());
    }

    public static TheoryData<string> LeakyCameras => new()
    {
        // Each holds the password in its URL and has at least one error somewhere in the camera.
        Group + Camera(("url", "url: rtsp://admin:S3cretPw@/stream")),                       // no host: the URL itself is in the message
        Group + Camera(("url", "url: http://admin:S3cretPw@192.0.2.10/stream")),            // wrong scheme: ditto
        Group + Camera(("url", "url: rtsps://admin:S3cretPw@192.0.2.10/stream"), ("loop", "loop: true")),
        Group + Camera(("url", "url: rtsp://admin:S3cretPw@192.0.2.10/stream"), ("latitude", "latitude: 100")),
        Group + Camera(("url", "url: [rtsp://admin:S3cretPw@192.0.2.10/stream]")),           // wrong type
        Group + Camera(("url", "url: rtsp://admin:S3cretPw@192.0.2.10/stream")) + Camera(("url", "url: rtsp://admin:S3cretPw@192.0.2.10/other")),
        Group + Camera(("url", "url: rtsp://admin:S3cretPw@192.0.2.10/stream\n    urll: rtsp://admin:S3cretPw@192.0.2.10/stream")),
        Group + Camera(("url", "url: rtsp://admin:S3cretPw@192.0.2.10/stream \"broken")),                  // space in the URL
        Group + Camera(("url", "url: rtsp://admin:S3cretPw@192.0.2.10/stream\n  url: duplicate")),        // YAML error in the file
    };

    [Theory]
    [MemberData(nameof(LeakyCameras))]
    public void Rtsp_password_never_appears_in_errors(string yaml)
    {
        var t = new TestConfig();
        t.Camera("street.yaml", yaml);
        var r = t.Load();
        Assert.NotEmpty(r.Errors);
        foreach (var e in r.Errors)
        {
            Assert.DoesNotContain("S3cretPw", e.ToString());
            Assert.DoesNotContain("S3cretPw", e.Message);
        }
        var thrown = Assert.Throws<ConfigException>(() => ConfigLoader.LoadOrThrow(t.MainPath));
        Assert.DoesNotContain("S3cretPw", thrown.Message);
    }

    [Fact]
    public void Password_holding_an_at_sign_is_hidden_whole()
    {
        var t = new TestConfig();
        t.Camera("street.yaml", Group + Camera(("url", "url: rtsp://admin:Top@Secret@/stream")));
        var e = TestConfig.Single(t.Load(), "cameras[0].url");
        Assert.DoesNotContain("Top", e.ToString());
        Assert.DoesNotContain("Secret", e.ToString());
        Assert.Contains("rtsp://admin:***@/stream", e.Message);
    }

    [Fact]
    public void Redacted_url_still_shows_user_and_host()
    {
        var t = new TestConfig();
        t.Camera("street.yaml", Group + Camera(("url", "url: http://admin:S3cretPw@192.0.2.10/stream")));
        var e = TestConfig.Single(t.Load(), "cameras[0].url");
        Assert.Contains("http://admin:***@192.0.2.10/stream", e.Message);
    }
}
