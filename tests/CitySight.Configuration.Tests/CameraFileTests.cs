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
        { "group:\n  id: g1\n  name: G\n  owner: me #<\ncameras: []\n", "group.owner", "owner", "allowed: id, name, district, street, grid, responsible_unit, timezone, mode, defaults" },
        { "group:\n  id: g1\n  name: G\n  timezone: Mars/Olympus #<\ncameras: []\n", "group.timezone", "Mars/Olympus", "unknown time zone 'Mars/Olympus'; use an IANA id such as Asia/Shanghai" },
        // A folder of the zone data, not a zone (found by the config fuzz test: it threw instead).
        { "group:\n  id: g1\n  name: G\n  timezone: Asia #<\ncameras: []\n", "group.timezone", "Asia", "unknown time zone 'Asia'; use an IANA id such as Asia/Shanghai" },
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
        { Group + Camera(("starts_at", "starts_at: 2026-11-23T14:00:00+08:00 #<")), "cameras[0].starts_at", "2026", "local video files only" },
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

        // zones: exclude and schedule
        { Group + Camera(("zones", "zones:" + Zone + "\n        exclude: yes #<")), "cameras[0].zones[0].exclude", "yes", "expected true or false (got 'yes')" },
        { Group + Camera(("zones", "zones:" + Zone + "\n        excluded: true #<")), "cameras[0].zones[0].excluded", "excluded", "unknown key 'excluded'; did you mean 'exclude'? allowed: name, polygon, case_types, exclude, schedule" },
        { Group + Camera(("zones", "zones:" + Zone + "\n        schedule: 25:00-02:00 #<")), "cameras[0].zones[0].schedule", "25:00", "'25:00' is not a start time: use HH:MM from 00:00 to 23:59" },
        { Group + Camera(("zones", "zones:" + Zone + "\n        schedule: 06:00 #<")), "cameras[0].zones[0].schedule", "06:00", "expected a daily window like 06:00-22:00 (got '06:00')" },
        { Group + Camera(("zones", "zones:" + Zone + "\n        schedule: [] #<")), "cameras[0].zones[0].schedule", "[]", "must list at least one window like 06:00-22:00 (leave schedule out for a zone that is always in force)" },
        { Group + Camera(("zones", "zones:" + Zone + "\n        schedule: [\"06:00-22:00\", \"7-9\"] #<")), "cameras[0].zones[0].schedule[1]", "\"7-9\"", "'7' is not a start time" },
        { Group + Camera(("zones", "zones:" + Zone + "\n        schedule: [[06:00-22:00]] #<")), "cameras[0].zones[0].schedule[0]", "[06:00", "expected a window like 06:00-22:00 or {days: [sat, sun], hours: [08:00-20:00]} (got a list)" },
        { Group + Camera(("zones", "zones:" + Zone + "\n        schedule: {days: [sat, sunday, hol], hours: [08:00-20:00]} #<")), "cameras[0].zones[0].schedule.days[2]", "hol", "'hol' is not a day: use mon, tue, wed, thu, fri, sat, sun or a range like mon-fri" },
        { Group + Camera(("zones", "zones:" + Zone + "\n        schedule: {days: [sat], hour: [08:00-20:00]} #<")), "cameras[0].zones[0].schedule.hour", "hour", "unknown key 'hour'; did you mean 'hours'? allowed: days, hours" },
        { Group + Camera(("zones", "zones:" + Zone + "\n        schedule: {} #<")), "cameras[0].zones[0].schedule", "{}", "give days, hours or both" },
        { Group + Camera(("zones", "zones:" + Zone + "\n        schedule: {days: []} #<")), "cameras[0].zones[0].schedule.days", "[]", "must list at least one day like mon or a range like mon-fri (leave days out for every day)" },
        { Group + Camera(("zones", "zones:" + Zone + "\n        schedule: {days: mon-fri, hours: 09:00-09:00} #<")), "cameras[0].zones[0].schedule.hours", "09:00-09:00", "starts and ends at the same time; for the whole day write 00:00-24:00" },
        { Group + Camera(("zones", "zones:" + Zone + "\n        schedule:\n          - 06:00-22:00\n          - days: [sat]\n            hours: [\"20:00-24:30\"] #<")), "cameras[0].zones[0].schedule[1].hours[0]", "\"20:00", "'24:30' is not an end time" },

        // ground mapping
        { Group + Camera(("ground", "ground: #<" + string.Concat(GroundItems(3)))), "cameras[0].ground", "ground", "needs at least 4 points for a ground mapping (got 3); leave ground out to use the camera's own latitude/longitude" },
        { Group + Camera(("ground", "ground: #<\n      - {image: [0.1, 0.1], lat: 31.2001, lon: 121.4001}\n      - {image: [0.3, 0.3], lat: 31.2001, lon: 121.4004}\n      - {image: [0.5, 0.5], lat: 31.2005, lon: 121.4004}\n      - {image: [0.7, 0.7], lat: 31.2005, lon: 121.4001}")),
            "cameras[0].ground", "ground", "the image points are all on one line (or repeated): a ground mapping needs 4 points with no three on one line" },
        { Group + Camera(("ground", "ground: #<" + string.Concat(GroundItems(4).Select(g => System.Text.RegularExpressions.Regex.Replace(g, @"lat: [0-9.]+, lon: [0-9.]+", "lat: 31.2001, lon: 121.4001"))))),
            "cameras[0].ground", "ground", "the lat/lon points are all on one line (or repeated): a ground mapping needs 4 places with no three on one line" },
        { Group + Camera(("ground", "ground:" + string.Concat(GroundItems(4).Select((g, i) => i == 1 ? g.Replace("lat: 31.2001", "lat: 95") + " #<" : g)))),
            "cameras[0].ground[1].lat", "95", "must be between -90 and 90 (got 95)" },
        { Group + Camera(("ground", "ground:" + string.Concat(GroundItems(4).Select((g, i) => i == 2 ? g.Replace("lat: 31.2005", "lat: 32.2005") + " #<" : g)))),
            "cameras[0].ground[2]", "{", "is 110.6 km from the camera's own latitude/longitude; ground points must be places this camera sees (at most 5 km away)" },
        { Group + Camera(("ground", "ground:" + string.Concat(GroundItems(4).Select((g, i) => i == 3 ? g.Replace(", lon: 121.4001", "") + " #<" : g)))),
            "cameras[0].ground[3].lon", "{", "is required" },
        { Group + Camera(("ground", "ground:" + string.Concat(GroundItems(4).Select((g, i) => i == 2 ? g.Replace("[0.8, 0.4]", "[1.2, 0.4]") + " #<" : g)))),
            "cameras[0].ground[2].image", "[1.2", "x and y must be between 0 and 1" },
        { Group + Camera(("ground", "ground:" + string.Concat(GroundItems(4).Select((g, i) => i == 0 ? g.Replace("lat:", "latitude:") + " #<" : g)))),
            "cameras[0].ground[0].latitude", "latitude", "unknown key 'latitude'; allowed: image, lat, lon" },
        { Group + Camera(("ground", "ground: {image: [0, 0]} #<")), "cameras[0].ground", "{", "expected a list" },
    };

    /// <summary>Ground points near the test camera (31.2, 121.4), one "\n      - {…}" item each: a trapezoid on the image and the road.</summary>
    private static string[] GroundItems(int count) =>
    [
        .. new[]
        {
            "\n      - {image: [0.1, 0.9], lat: 31.2001, lon: 121.4001}",
            "\n      - {image: [0.9, 0.9], lat: 31.2001, lon: 121.4004}",
            "\n      - {image: [0.8, 0.4], lat: 31.2005, lon: 121.4004}",
            "\n      - {image: [0.2, 0.4], lat: 31.2005, lon: 121.4001}",
            "\n      - {image: [0.5, 0.9], lat: 31.2001, lon: 121.40025}",
        }.Take(count),
    ];

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
    public void Exclude_zones_and_schedules_map_to_the_domain_in_the_groups_time_zone()
    {
        var t = new TestConfig("service:\n  timezone: Asia/Urumqi\n");
        t.Camera("a.yaml", """
            group:
              id: g1
              name: Group one
              timezone: Asia/Shanghai
            cameras:
              - id: cam-1
                name: Camera one
                url: rtsp://192.0.2.10/a
                latitude: 31.2
                longitude: 121.4
                detectors: [street_stall, garbage, illegal_parking]
                zones:
                  - name: pavement
                    polygon: [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]]
                    case_types: [street_stall, garbage]
                    schedule: "06:00-22:00"
                  - name: night-market
                    polygon: [[0.5, 0.5], [1.0, 0.5], [1.0, 1.0], [0.5, 1.0]]
                    case_types: [street_stall]
                    exclude: true
                    schedule: ["18:00-02:00"]
                  - name: weekend-bay
                    polygon: [[0.0, 0.5], [0.2, 0.5], [0.2, 1.0], [0.0, 1.0]]
                    exclude: true
                    schedule: {days: [sat, sun], hours: 08:00-20:00}
                  - name: mixed
                    polygon: [[0, 0], [1, 0], [1, 0.1]]
                    case_types: [illegal_parking]
                    exclude: false
                    schedule:
                      - 06:00-10:00
                      - {days: mon-fri, hours: ["16:00-19:00", "22:00-02:00"]}
                      - {days: [sun]}
            """);
        var t2 = new TestConfig("service:\n  timezone: Asia/Urumqi\n");
        t2.Camera("b.yaml", Group + Camera());
        var r = t.Load();
        Assert.True(r.Success, TestConfig.AllErrors(r));
        var cam = Assert.Single(r.Config!.Cameras);
        Assert.Equal("Asia/Shanghai", cam.TimeZone.Id);
        Assert.Equal("Asia/Shanghai", r.Config.Groups[0].TimeZone.Id);
        // A group without its own timezone takes service.timezone.
        var other = ConfigLoader.LoadOrThrow(t2.MainPath);
        Assert.Equal("Asia/Urumqi", other.Cameras.Single().TimeZone.Id);
        Assert.Equal("Asia/Urumqi", other.Groups[0].TimeZone.Id);

        Assert.Equal([false, true, true, false], cam.Zones.Select(z => z.Exclude));
        Assert.Equal("every day 06:00-22:00", cam.Zones[0].Schedule!.ToString());
        Assert.Equal("every day 18:00-02:00", cam.Zones[1].Schedule!.ToString());
        Assert.Equal("sat,sun 08:00-20:00", cam.Zones[2].Schedule!.ToString());
        Assert.Equal("every day 06:00-10:00; mon,tue,wed,thu,fri 16:00-19:00,22:00-02:00; sun all day", cam.Zones[3].Schedule!.ToString());
        // An exclude zone without case_types applies to all the camera's detectors.
        Assert.Equal(["street_stall", "garbage", "illegal_parking"], cam.Zones[2].CaseTypes);

        DateTimeOffset At(string local) => new(DateTime.Parse(local, System.Globalization.CultureInfo.InvariantCulture), TimeSpan.FromHours(8));
        var market = new NormalisedPoint(0.7, 0.7);
        var bay = new NormalisedPoint(0.1, 0.7);
        Assert.Equal("pavement", cam.ZoneFor("street_stall", market, At("2024-06-03 12:00")));   // Monday noon
        Assert.Null(cam.ZoneFor("street_stall", market, At("2024-06-03 19:00")));               // market open
        Assert.Equal("pavement", cam.ZoneFor("garbage", market, At("2024-06-03 19:00")));       // market excludes stalls only
        Assert.Null(cam.ZoneFor("street_stall", market, At("2024-06-03 23:00")));               // pavement out of schedule
        Assert.Equal("pavement", cam.ZoneFor("garbage", bay, At("2024-06-03 12:00")));          // weekday
        Assert.Null(cam.ZoneFor("garbage", bay, At("2024-06-01 12:00")));                       // Saturday
    }

    [Fact]
    public void Ground_mapping_is_read_and_may_have_three_points_on_a_line_among_more()
    {
        var t = new TestConfig();
        // Points 0, 1 and 4 lie on one kerb line; 0, 1, 2, 3 are in general position.
        t.Camera("a.yaml", Group + Camera(("ground", "ground:" + string.Concat(GroundItems(5)))));
        var cam = Assert.Single(ConfigLoader.LoadOrThrow(t.MainPath).Cameras);
        Assert.Equal(5, cam.Ground.Count);
        Assert.Equal(new GroundPoint(new NormalisedPoint(0.1, 0.9), 31.2001, 121.4001), cam.Ground[0]);
        Assert.Equal(new GroundPoint(new NormalisedPoint(0.5, 0.9), 31.2001, 121.40025), cam.Ground[4]);

        // Absent or [] = no mapping: the camera's own position stands for its hits.
        var none = new TestConfig();
        none.Camera("a.yaml", Group + Camera() + Camera(("id", "id: cam-2"), ("ground", "ground: []")));
        Assert.All(ConfigLoader.LoadOrThrow(none.MainPath).Cameras, c => Assert.Empty(c.Ground));
    }

    [Fact]
    public void Ground_mapping_with_all_points_on_one_line_is_refused_even_with_many_points()
    {
        var yaml = Group + Camera(("ground", "ground:" + string.Concat(Enumerable.Range(0, 6).Select(i =>
            $"\n      - {{image: [0.{i + 1}, 0.9], lat: 31.200{i}, lon: 121.400{i}}}"))));
        var t = new TestConfig();
        t.Camera("a.yaml", yaml);
        Assert.Contains("image points are all on one line", TestConfig.Single(t.Load(), "cameras[0].ground").Message);
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

    [Theory]
    [InlineData("2026-11-23T14:00:00+08:00", "2026-11-23T14:00:00+08:00")]
    [InlineData("2026-11-23T06:00:00Z", "2026-11-23T14:00:00+08:00")]
    [InlineData("2026-11-23T14:00:00", "2026-11-23T14:00:00+08:00")]       // no offset: the group's zone (Asia/Shanghai)
    [InlineData("\"2026-11-23 14:00:00\"", "2026-11-23T14:00:00+08:00")]
    public void A_recording_start_is_read_in_its_own_offset_or_the_group_zone(string written, string expected)
    {
        var t = new TestConfig();
        Directory.CreateDirectory(t.CamerasDir);
        File.WriteAllBytes(Path.Combine(t.CamerasDir, "clip.mp4"), [0]);
        t.Camera("street.yaml", Group + Camera(("url", "url: clip.mp4"), ("starts_at", "starts_at: " + written)));
        var cam = Assert.Single(ConfigLoader.LoadOrThrow(t.MainPath).Cameras);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), cam.StartsAt);
    }

    [Fact]
    public void A_recording_start_that_is_not_a_time_is_named()
    {
        var t = new TestConfig();
        Directory.CreateDirectory(t.CamerasDir);
        File.WriteAllBytes(Path.Combine(t.CamerasDir, "clip.mp4"), [0]);
        t.Camera("street.yaml", Group + Camera(("url", "url: clip.mp4"), ("starts_at", "starts_at: yesterday 2pm")));
        var e = TestConfig.Single(t.Load(), "cameras[0].starts_at");
        Assert.Contains("'yesterday 2pm' is not a time; expected ISO 8601", e.Message);
        Assert.Null(Assert.Single(ConfigLoader.LoadOrThrow(WithoutStart(t)).Cameras).StartsAt);

        static string WithoutStart(TestConfig t)
        {
            t.Camera("street.yaml", Group + Camera(("url", "url: clip.mp4")));
            return t.MainPath;
        }
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
