using CitySight.Domain;

namespace CitySight.Rules.Tests;

/// <summary>Per-type dwell rules on tracks: how long, stationary or merely present, in zones in force at the time.</summary>
public class DwellRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 8, 0, 0, TimeSpan.FromHours(8));   // 08:00 in Shanghai
    private static readonly Box CarBox = new(100, 300, 300, 420);

    // As rules.case_types would set them: what the built-in rules would say is written out, so these tests do not lean on them.
    private static readonly CaseTypeRuleOverrides Parking = new() { MinConfidence = 0.35f, MinDwell = TimeSpan.FromMinutes(10), RequireStationary = true };
    private static readonly CaseTypeRuleOverrides Stall = new() { MinConfidence = 0.35f, MinDwell = TimeSpan.FromMinutes(5), RequireStationary = false };

    private static Dictionary<string, CaseTypeRuleOverrides> Types(CaseTypeRuleOverrides parking) =>
        new() { ["illegal_parking"] = parking, ["street_stall"] = Stall };

    private static Camera Cam(params Zone[] zones) => new()
    {
        Id = "cam-1", Name = "cam", GroupId = "g", Url = "x.mp4", Zones = zones,
        TimeZone = TimeZones.Default,
    };

    private static RuleOptions Options() => new()
    {
        ConfirmSamples = 2,
        CaseTypes = Types(Parking),
    };

    private static List<CaseDecision> Run(TrackedRules rules, double seconds, params Detection[] detections) =>
        rules.Evaluate(new DetectedFrame(Frame.Rent("cam-1", (long)seconds, T0.AddSeconds(seconds), 640, 480), detections, TimeSpan.Zero));

    private static Detection Car(Box box, float conf = 0.7f) => new(2, "car", conf, box, "illegal_parking");

    /// <summary>A parked car with a jittering box, sampled every 5 s: when was its case raised (seconds), and how many?</summary>
    private static (double? At, int Cases) Park(TrackedRules rules, double minutes, Func<double, Box>? move = null)
    {
        double? at = null;
        var cases = 0;
        var rng = new Random(7);
        for (double s = 0; s <= minutes * 60; s += 5)
        {
            var box = move?.Invoke(s) ?? CarBox with { X1 = CarBox.X1 + rng.Next(-3, 4), Y2 = CarBox.Y2 + rng.Next(-3, 4) };
            var opened = Run(rules, s, Car(box)).OfType<CaseOpened>().Count();
            if (opened > 0) at ??= s;
            cases += opened;
        }
        return (at, cases);
    }

    [Fact]
    public void A_car_parked_for_an_hour_is_one_case_raised_after_the_ten_minute_grace()
    {
        var (at, cases) = Park(new TrackedRules(Cam(), Options()), minutes: 60);

        Assert.Equal(1, cases);
        // Stationary once it has stood still a short while, then ten minutes of grace.
        Assert.InRange(at!.Value, 600, 600 + 30);
    }

    [Fact]
    public void A_car_that_stops_shorter_than_the_grace_raises_nothing()
    {
        var (at, cases) = Park(new TrackedRules(Cam(), Options()), minutes: 8);
        Assert.Null(at);
        Assert.Equal(0, cases);
    }

    [Fact]
    public void Traffic_passing_through_is_never_a_parking_case()
    {
        // Crawling traffic: 30 px (a quarter of the car's height) per 5 s sample for an hour, never still.
        var (at, _) = Park(new TrackedRules(Cam(), Options() with { CaseTypes = Types(Parking with { MinDwell = TimeSpan.Zero }) }),
            minutes: 60, move: s => CarBox with { X1 = CarBox.X1 + (float)(s * 6 % 300), X2 = CarBox.X2 + (float)(s * 6 % 300) });
        Assert.Null(at);
    }

    [Fact]
    public void A_stall_counts_its_presence_not_its_stillness()
    {
        var rules = new TrackedRules(Cam(), Options());
        var stall = (double s) => new Detection(0, "umbrella", 0.8f, new Box(200 + (float)(s % 20) * 4, 300, 300 + (float)(s % 20) * 4, 400), "street_stall");
        double? at = null;
        for (double s = 0; s <= 600; s += 5)
            if (Run(rules, s, stall(s)).OfType<CaseOpened>().Any()) at ??= s;
        // Five minutes from its first sighting (counted from the sample that confirmed it at the latest).
        Assert.InRange(at!.Value, 300, 305);
    }

    [Fact]
    public void Dwell_counts_from_when_the_object_entered_the_zone()
    {
        // The car stands outside the zone for 20 minutes, then inside for 12: the ten minutes start at its entry.
        var zone = new Zone("no-parking", [new(0, 0.5), new(1, 0.5), new(1, 1), new(0, 1)], ["illegal_parking"]);
        var rules = new TrackedRules(Cam(zone), Options());
        var outside = new Box(100, 100, 300, 220);
        double? at = null;
        for (double s = 0; s <= 32 * 60; s += 5)
        {
            var box = s < 20 * 60 ? outside : CarBox;
            if (Run(rules, s, Car(box)).OfType<CaseOpened>().Any()) at ??= s;
        }
        Assert.NotNull(at);
        Assert.InRange(at!.Value, 30 * 60, 30 * 60 + 40);
    }

    [Fact]
    public void A_zone_outside_its_schedule_raises_nothing_and_an_exclude_zone_removes_its_area()
    {
        var lower = new Zone("stalls-daytime", [new(0, 0.5), new(1, 0.5), new(1, 1), new(0, 1)], ["illegal_parking"])
        {
            Schedule = ZoneSchedule.Daily("10:00-22:00"),   // T0 is 08:00 local: not yet in force
        };
        var (at, _) = Park(new TrackedRules(Cam(lower), Options() with { CaseTypes = Types(Parking with { MinDwell = TimeSpan.FromMinutes(1) }) }), minutes: 30);
        Assert.Null(at);

        var bay = new Zone("legal-bay", [new(0, 0.5), new(0.6, 0.5), new(0.6, 1), new(0, 1)], ["illegal_parking"]) { Exclude = true };
        var all = lower with { Schedule = null };
        var (inBay, _) = Park(new TrackedRules(Cam(all, bay), Options() with { CaseTypes = Types(Parking with { MinDwell = TimeSpan.FromMinutes(1) }) }), minutes: 30);
        Assert.Null(inBay);
    }
}
