namespace CitySight.Domain.Tests;

public class ZoneTests
{
    private static readonly Zone Triangle = new("t", [new(0.1, 0.1), new(0.9, 0.1), new(0.5, 0.9)], ["garbage"]);

    [Theory]
    [InlineData(0.5, 0.3, true)]
    [InlineData(0.5, 0.95, false)]
    [InlineData(0.15, 0.8, false)]
    [InlineData(0.05, 0.05, false)]
    public void Point_in_polygon(double x, double y, bool inside) =>
        Assert.Equal(inside, Triangle.Contains(new NormalisedPoint(x, y)));

    [Fact]
    public void Camera_without_zones_allows_the_whole_frame_and_with_zones_only_inside()
    {
        var cam = new Camera { Id = "c", Name = "c", GroupId = "g", Url = "u" };
        Assert.Equal("", cam.ZoneFor("garbage", new(0.99, 0.99)));
        var zoned = cam with { Zones = [Triangle] };
        Assert.Equal("t", zoned.ZoneFor("garbage", new(0.5, 0.3)));
        Assert.Null(zoned.ZoneFor("garbage", new(0.5, 0.95)));
        Assert.Null(zoned.ZoneFor("billboard", new(0.5, 0.3)));
    }

    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    /// <summary>A capture time given as local wall-clock time in Shanghai (UTC+8), e.g. "2024-06-01 21:30" (a Saturday).</summary>
    private static DateTimeOffset Local(string text) =>
        new(DateTime.Parse(text, System.Globalization.CultureInfo.InvariantCulture), TimeSpan.FromHours(8));

    private static readonly NormalisedPoint[] WholeImage = [new(0, 0), new(1, 0), new(1, 1), new(0, 1)];

    private static Camera ShanghaiCamera(params Zone[] zones) =>
        new() { Id = "c", Name = "c", GroupId = "g", Url = "u", TimeZone = Shanghai, Zones = zones };

    [Theory]
    [InlineData("06:00-22:00", 6, 0, 22, 0, false)]
    [InlineData("22:00-02:00", 22, 0, 2, 0, true)]
    [InlineData("6:30 - 9:05", 6, 30, 9, 5, false)]
    [InlineData("00:00-24:00", 0, 0, 24, 0, false)]
    [InlineData("18:00-00:00", 18, 0, 0, 0, true)]
    public void Daily_windows_parse(string text, int h1, int m1, int h2, int m2, bool overnight)
    {
        var w = DailyWindow.Parse(text);
        Assert.Equal((new TimeSpan(h1, m1, 0), new TimeSpan(h2, m2, 0), overnight), (w.Start, w.End, w.Overnight));
    }

    [Theory]
    [InlineData("06:00", "expected a daily window like 06:00-22:00")]
    [InlineData("6-22", "'6' is not a start time")]
    [InlineData("24:00-06:00", "'24:00' is not a start time")]
    [InlineData("06:00-24:30", "'24:30' is not an end time")]
    [InlineData("06:60-07:00", "'06:60' is not a start time")]
    [InlineData("06:00-06:00", "starts and ends at the same time; for the whole day write 00:00-24:00")]
    [InlineData("06:00-07:00-08:00", "expected a daily window")]
    public void Bad_daily_windows_say_why(string text, string message)
    {
        Assert.False(DailyWindow.TryParse(text, out _, out var error));
        Assert.Contains(message, error);
    }

    [Fact]
    public void Daily_schedule_is_read_in_the_cameras_local_time()
    {
        var stalls = new Zone("pavement", WholeImage, ["street_stall"]) { Schedule = ZoneSchedule.Daily("06:00-22:00") };
        var cam = ShanghaiCamera(stalls);
        var p = new NormalisedPoint(0.5, 0.5);
        Assert.Equal("pavement", cam.ZoneFor("street_stall", p, Local("2024-06-03 06:00")));
        Assert.Equal("pavement", cam.ZoneFor("street_stall", p, Local("2024-06-03 21:59")));
        Assert.Null(cam.ZoneFor("street_stall", p, Local("2024-06-03 22:00")));
        Assert.Null(cam.ZoneFor("street_stall", p, Local("2024-06-03 05:59")));
        // The same instants given in UTC: 21:59 in Shanghai is 13:59Z; 22:30Z is 06:30 the next morning there.
        Assert.Equal("pavement", cam.ZoneFor("street_stall", p, new DateTimeOffset(2024, 6, 3, 13, 59, 0, TimeSpan.Zero)));
        Assert.Null(cam.ZoneFor("street_stall", p, new DateTimeOffset(2024, 6, 3, 14, 0, 0, TimeSpan.Zero)));
        Assert.Equal("pavement", cam.ZoneFor("street_stall", p, new DateTimeOffset(2024, 6, 3, 22, 30, 0, TimeSpan.Zero)));
        // A camera in another zone reads the same instant differently (London is UTC+1 in June).
        var london = cam with { TimeZone = TimeZoneInfo.FindSystemTimeZoneById("Europe/London") };
        Assert.Null(london.ZoneFor("street_stall", p, new DateTimeOffset(2024, 6, 3, 22, 30, 0, TimeSpan.Zero)));
        Assert.Equal("pavement", london.ZoneFor("street_stall", p, new DateTimeOffset(2024, 6, 3, 13, 59, 0, TimeSpan.Zero)));
    }

    [Theory]
    [InlineData("2024-06-03 22:00", true)]
    [InlineData("2024-06-03 23:59", true)]
    [InlineData("2024-06-04 00:00", true)]
    [InlineData("2024-06-04 01:59", true)]
    [InlineData("2024-06-04 02:00", false)]
    [InlineData("2024-06-04 12:00", false)]
    [InlineData("2024-06-04 21:59", false)]
    public void Overnight_window_wraps_midnight(string local, bool inForce)
    {
        var market = ZoneSchedule.Daily("22:00-02:00");
        Assert.Equal(inForce, market.IsActive(Local(local), Shanghai));
    }

    [Theory]
    // 2024-06-01 is a Saturday.
    [InlineData("2024-06-01 08:00", true)]
    [InlineData("2024-06-01 07:59", false)]
    [InlineData("2024-06-02 19:59", true)]
    [InlineData("2024-06-02 20:00", false)]
    [InlineData("2024-06-03 10:00", false)]   // Monday
    [InlineData("2024-05-31 10:00", false)]   // Friday
    public void Days_of_week_limit_the_windows(string local, bool inForce)
    {
        var weekend = new ZoneSchedule([new ScheduleEntry([DayOfWeek.Saturday, DayOfWeek.Sunday], [DailyWindow.Parse("08:00-20:00")])]);
        Assert.Equal(inForce, weekend.IsActive(Local(local), Shanghai));
    }

    [Fact]
    public void The_day_of_week_is_the_local_one_not_utcs()
    {
        // Sunday 2024-06-02 20:30Z is Monday 04:30 in Shanghai.
        var mondayDawn = new ZoneSchedule([new ScheduleEntry([DayOfWeek.Monday], [DailyWindow.Parse("04:00-05:00")])]);
        var at = new DateTimeOffset(2024, 6, 2, 20, 30, 0, TimeSpan.Zero);
        Assert.True(mondayDawn.IsActive(at, Shanghai));
        Assert.False(mondayDawn.IsActive(at, TimeZoneInfo.Utc));
    }

    [Theory]
    [InlineData("2024-05-31 23:00", true)]    // Friday evening
    [InlineData("2024-06-01 01:30", true)]    // Saturday small hours: Friday's window
    [InlineData("2024-05-31 01:30", false)]   // Friday small hours: Thursday's window, not held
    [InlineData("2024-06-01 23:00", false)]   // Saturday evening
    [InlineData("2024-06-02 01:30", false)]
    public void Overnight_window_belongs_to_the_day_it_starts(string local, bool inForce)
    {
        var fridayNight = new ZoneSchedule([new ScheduleEntry([DayOfWeek.Friday], [DailyWindow.Parse("22:00-02:00")])]);
        Assert.Equal(inForce, fridayNight.IsActive(Local(local), Shanghai));
    }

    [Fact]
    public void Schedule_is_in_force_while_any_entry_is()
    {
        var s = new ZoneSchedule(
        [
            new ScheduleEntry([DayOfWeek.Monday], []),                          // all of Monday
            new ScheduleEntry(DailyWindow.Parse("12:00-13:00")),                 // every day at lunch
        ]);
        Assert.True(s.IsActive(Local("2024-06-03 03:00"), Shanghai));
        Assert.True(s.IsActive(Local("2024-06-04 12:30"), Shanghai));
        Assert.False(s.IsActive(Local("2024-06-04 13:00"), Shanghai));
    }

    [Theory]
    [InlineData("mon", new[] { DayOfWeek.Monday })]
    [InlineData("Saturday", new[] { DayOfWeek.Saturday })]
    [InlineData("SUN", new[] { DayOfWeek.Sunday })]
    [InlineData("mon-fri", new[] { DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday })]
    [InlineData("fri-mon", new[] { DayOfWeek.Friday, DayOfWeek.Saturday, DayOfWeek.Sunday, DayOfWeek.Monday })]
    public void Days_parse(string text, DayOfWeek[] days)
    {
        Assert.True(ZoneSchedule.TryParseDays(text, out var parsed, out var error), error);
        Assert.Equal(days, parsed);
    }

    [Theory]
    [InlineData("mo")]
    [InlineData("mon-")]
    [InlineData("mon-wed-fri")]
    [InlineData("")]
    public void Bad_days_are_refused(string text)
    {
        Assert.False(ZoneSchedule.TryParseDays(text, out _, out var error));
        Assert.Contains("use mon, tue, wed, thu, fri, sat, sun or a range like mon-fri", error);
    }

    private static readonly Zone NoParkingStreet = new("street", [new(0, 0.3), new(1, 0.3), new(1, 1), new(0, 1)], ["illegal_parking", "garbage"]);
    private static readonly Zone LegalBay = new("bay", [new(0.6, 0.5), new(0.9, 0.5), new(0.9, 0.8), new(0.6, 0.8)], ["illegal_parking"]) { Exclude = true };

    [Fact]
    public void Exclude_zone_cuts_its_case_types_out_of_an_include_zone()
    {
        var cam = ShanghaiCamera(NoParkingStreet, LegalBay);
        var at = Local("2024-06-03 12:00");
        var inBay = new NormalisedPoint(0.75, 0.7);
        var onStreet = new NormalisedPoint(0.2, 0.7);
        Assert.Null(cam.ZoneFor("illegal_parking", inBay, at));
        Assert.Equal("street", cam.ZoneFor("illegal_parking", onStreet, at));
        // The bay excludes parking only: garbage dumped in it is still a case.
        Assert.Equal("street", cam.ZoneFor("garbage", inBay, at));
        // Above the street is outside every include zone.
        Assert.Null(cam.ZoneFor("illegal_parking", new NormalisedPoint(0.75, 0.1), at));
        // The order of zones does not matter.
        Assert.Null(ShanghaiCamera(LegalBay, NoParkingStreet).ZoneFor("illegal_parking", inBay, at));
    }

    [Fact]
    public void Exclude_zone_without_case_types_excludes_everything()
    {
        var everything = LegalBay with { CaseTypes = [] };
        var cam = ShanghaiCamera(NoParkingStreet, everything);
        Assert.Null(cam.ZoneFor("garbage", new NormalisedPoint(0.75, 0.7), Local("2024-06-03 12:00")));
    }

    [Theory]
    [InlineData("2024-06-03 12:00", "pavement")]   // market closed: stalls there are cases
    [InlineData("2024-06-03 17:59", "pavement")]
    [InlineData("2024-06-03 18:00", null)]         // market open: approved
    [InlineData("2024-06-04 01:30", null)]
    [InlineData("2024-06-04 02:00", "pavement")]
    public void Exclude_zone_with_a_schedule_excludes_only_during_it(string local, string? expected)
    {
        var pavement = new Zone("pavement", WholeImage, ["street_stall"]);
        var market = new Zone("night-market", [new(0.5, 0.5), new(1, 0.5), new(1, 1), new(0.5, 1)], ["street_stall"])
        {
            Exclude = true,
            Schedule = ZoneSchedule.Daily("18:00-02:00"),
        };
        var cam = ShanghaiCamera(pavement, market);
        Assert.Equal(expected, cam.ZoneFor("street_stall", new NormalisedPoint(0.7, 0.7), Local(local)));
        // Outside the market the pavement applies around the clock.
        Assert.Equal("pavement", cam.ZoneFor("street_stall", new NormalisedPoint(0.2, 0.2), Local(local)));
        // The old overload ignores schedules: every zone counts as in force.
        Assert.Null(cam.ZoneFor("street_stall", new NormalisedPoint(0.7, 0.7)));
    }

    [Fact]
    public void Include_zone_out_of_schedule_raises_nothing()
    {
        var stalls = new Zone("pavement", WholeImage, ["street_stall"]) { Schedule = ZoneSchedule.Daily("06:00-22:00") };
        var cam = ShanghaiCamera(stalls);
        Assert.Null(cam.ZoneFor("street_stall", new NormalisedPoint(0.5, 0.5), Local("2024-06-03 23:00")));
        Assert.Equal("pavement", cam.ZoneFor("street_stall", new NormalisedPoint(0.5, 0.5)));
    }

    [Fact]
    public void Camera_without_zones_or_with_only_exclude_zones_raises_anywhere_else()
    {
        var at = Local("2024-06-03 12:00");
        var bare = ShanghaiCamera();
        Assert.Equal("", bare.ZoneFor("illegal_parking", new NormalisedPoint(0.99, 0.99), at));
        var onlyBay = ShanghaiCamera(LegalBay);
        Assert.Equal("", onlyBay.ZoneFor("illegal_parking", new NormalisedPoint(0.1, 0.1), at));
        Assert.Null(onlyBay.ZoneFor("illegal_parking", new NormalisedPoint(0.75, 0.7), at));
        Assert.Equal("", onlyBay.ZoneFor("garbage", new NormalisedPoint(0.75, 0.7), at));
    }

    [Fact]
    public void Default_time_zone_is_china_standard_time()
    {
        var cam = new Camera { Id = "c", Name = "c", GroupId = "g", Url = "u" };
        Assert.Equal(TimeZones.DefaultId, cam.TimeZone.Id);
        Assert.Equal(TimeSpan.FromHours(8), cam.TimeZone.GetUtcOffset(new DateTimeOffset(2024, 1, 15, 0, 0, 0, TimeSpan.Zero)));
        Assert.Equal(TimeSpan.FromHours(8), cam.TimeZone.GetUtcOffset(new DateTimeOffset(2024, 7, 15, 0, 0, 0, TimeSpan.Zero)));
    }

    [Theory]
    [InlineData("rtsp://admin:s3cret@10.0.0.5:554/stream1", "rtsp://admin:***@10.0.0.5:554/stream1")]
    [InlineData("rtsp://10.0.0.5/stream1", "rtsp://10.0.0.5/stream1")]
    [InlineData("rtsp://admin:p@ss@10.0.0.5/s", "rtsp://admin:***@10.0.0.5/s")]
    [InlineData("/videos/a.mp4", "/videos/a.mp4")]
    [InlineData("rtsp://10.0.0.5/cam/realmonitor?channel=1&subtype=0&token=tok-123", "rtsp://10.0.0.5/cam/realmonitor?channel=1&subtype=0&token=***")]
    [InlineData("https://u:pw@cam.example/live?Access_Token=a1&sig=b2&apiKey=c3", "https://u:***@cam.example/live?Access_Token=***&sig=***&apiKey=***")]
    [InlineData("rtsp://10.0.0.5/s?password=x%40y", "rtsp://10.0.0.5/s?password=***")]
    public void Urls_are_redacted(string url, string expected) => Assert.Equal(expected, Secrets.RedactUrl(url));

    [Fact]
    public void Scrub_removes_the_password_from_free_text()
    {
        const string url = "rtsp://admin:p%40ss@10.0.0.5/s";
        var text = Secrets.Scrub($"[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized {url} p@ss", url);
        Assert.DoesNotContain("p@ss", text);
        Assert.DoesNotContain("p%40ss", text);
    }

    [Fact]
    public void Scrub_removes_secret_query_values_from_free_text_and_keeps_the_others()
    {
        const string url = "rtsp://10.0.0.5/live?channel=3&token=t%2Bk-9";
        var text = Secrets.Scrub($"[rtsp @ 0x1] 403 Forbidden for {url}; token t+k-9 refused (channel=3)", url);
        Assert.DoesNotContain("t%2Bk-9", text);
        Assert.DoesNotContain("t+k-9", text);
        Assert.Contains("channel=3", text);
    }
}
