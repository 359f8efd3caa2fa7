using CitySight.Domain;

namespace CitySight.Rules.Tests;

public class CameraRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);
    private static readonly Box CarBox = new(100, 300, 300, 420);   // bottom centre (200, 420) of 640x480 = (0.31, 0.875)
    private static readonly Box TopBox = new(100, 10, 300, 100);    // bottom centre y = 0.21

    private static Camera Cam(params Zone[] zones) => new()
    {
        Id = "cam-1", Name = "cam", GroupId = "g", Url = "x.mp4",
        Detectors = ["illegal_parking"], Zones = zones,
    };

    private static readonly Zone LowerHalf = new("no-parking",
        [new(0, 0.5), new(1, 0.5), new(1, 1), new(0, 1)], ["illegal_parking"]);

    private static DetectedFrame At(int seconds, params Detection[] detections) =>
        new(Frame.Rent("cam-1", seconds, T0.AddSeconds(seconds), 640, 480), detections, TimeSpan.Zero);

    private static Detection Car(Box box, float conf = 0.7f) => new(2, "car", conf, box, "illegal_parking");

    private static List<CaseDecision> Run(TrackedRules rules, DetectedFrame f) => rules.Evaluate(f);

    [Fact]
    public void Object_becomes_a_case_only_after_K_consecutive_samples()
    {
        var rules = new TrackedRules(Cam(), new RuleOptions { ConfirmSamples = 3 });
        Assert.Empty(Run(rules, At(0, Car(CarBox))));
        Assert.Empty(Run(rules, At(1, Car(CarBox))));
        var third = Run(rules, At(2, Car(CarBox)));
        var opened = Assert.IsType<CaseOpened>(Assert.Single(third));
        Assert.Equal("illegal_parking", opened.Hit.CaseType);
        Assert.Equal(T0, opened.Hit.FirstSeen);
        Assert.Equal(T0.AddSeconds(2), opened.Hit.SeenAt);
    }

    [Fact]
    public void A_missed_sample_does_not_start_the_count_again_the_track_carries_on()
    {
        var rules = new TrackedRules(Cam(), new RuleOptions { ConfirmSamples = 3 });
        Run(rules, At(0, Car(CarBox)));
        Run(rules, At(1, Car(CarBox)));
        Assert.Empty(Run(rules, At(2)));
        Assert.Single(Run(rules, At(3, Car(CarBox))));
    }

    [Fact]
    public void Outside_the_zone_unmapped_classes_and_low_confidence_raise_nothing()
    {
        var rules = new TrackedRules(Cam(LowerHalf), new RuleOptions { ConfirmSamples = 1, MinConfidence = 0.5f });
        Assert.Empty(Run(rules, At(0, Car(TopBox))));
        Assert.Empty(Run(rules, At(1, Car(TopBox))));
        // Long enough later that the tracker has let the first car go (it could have driven down into the zone).
        Assert.Empty(Run(rules, At(40, Car(CarBox, conf: 0.3f))));
        Assert.Empty(Run(rules, At(41, Car(CarBox, conf: 0.3f))));
        Assert.Empty(Run(rules, At(42, new Detection(0, "person", 0.9f, CarBox, null))));
        Assert.Empty(Run(rules, At(43, new Detection(0, "person", 0.9f, CarBox, null))));
        Assert.Empty(Run(rules, At(44, Car(CarBox))));
        var opened = Assert.IsType<CaseOpened>(Assert.Single(Run(rules, At(45, Car(CarBox)))));
        Assert.Equal("no-parking", opened.Hit.Zone);
    }

    [Fact]
    public void A_zone_for_another_case_type_does_not_count()
    {
        var stallZone = LowerHalf with { CaseTypes = ["street_stall"] };
        var rules = new TrackedRules(Cam(stallZone), new RuleOptions { ConfirmSamples = 1 });
        Assert.Empty(Run(rules, At(0, Car(CarBox))));
    }

    [Fact]
    public void The_same_parked_car_stays_one_case_within_the_window()
    {
        var options = new RuleOptions { ConfirmSamples = 2, DedupWindow = TimeSpan.FromMinutes(5), SightingInterval = TimeSpan.FromSeconds(30) };
        var rules = new TrackedRules(Cam(), options);
        var opened = new List<string>();
        var sighted = 0;
        for (var s = 0; s < 600; s++)
        {
            // the car is missed now and then, and its box jitters: still one case
            var decisions = s % 7 == 3 ? Run(rules, At(s)) : Run(rules, At(s, Car(CarBox with { X1 = CarBox.X1 + s % 5 })));
            opened.AddRange(decisions.OfType<CaseOpened>().Select(d => d.CaseId));
            sighted += decisions.OfType<CaseSighted>().Count();
        }
        Assert.Single(opened);
        // re-reported about every 30 s, not on every sample
        Assert.InRange(sighted, 10, 30);
    }

    [Fact]
    public void After_the_window_passes_the_same_place_raises_a_new_case()
    {
        var rules = new TrackedRules(Cam(), new RuleOptions { ConfirmSamples = 1, DedupWindow = TimeSpan.FromMinutes(1) });
        Run(rules, At(0, Car(CarBox)));
        var first = Assert.IsType<CaseOpened>(Assert.Single(Run(rules, At(1, Car(CarBox)))));
        Assert.Empty(Run(rules, At(40)));
        Assert.Empty(Run(rules, At(45)));
        // The tracker has let the car go; a car at the same place within the window is that case again.
        Run(rules, At(50, Car(CarBox)));
        var again = Assert.IsType<CaseSighted>(Assert.Single(Run(rules, At(51, Car(CarBox)))));
        Assert.Equal(first.CaseId, again.CaseId);
        Assert.Empty(Run(rules, At(100)));
        Assert.Empty(Run(rules, At(105)));
        Run(rules, At(200, Car(CarBox)));
        var second = Assert.IsType<CaseOpened>(Assert.Single(Run(rules, At(201, Car(CarBox)))));
        Assert.NotEqual(first.CaseId, second.CaseId);
    }

    [Fact]
    public void Two_separate_cars_are_two_cases()
    {
        var rules = new TrackedRules(Cam(), new RuleOptions { ConfirmSamples = 1 });
        var other = new Box(400, 300, 600, 420);
        Run(rules, At(0, Car(CarBox), Car(other)));
        var decisions = Run(rules, At(1, Car(CarBox), Car(other)));
        Assert.Equal(2, decisions.OfType<CaseOpened>().Select(d => d.CaseId).Distinct().Count());
    }

    [Fact]
    public void Replaying_the_same_footage_gives_the_same_case_ids()
    {
        string Play()
        {
            var rules = new TrackedRules(Cam(), new RuleOptions { ConfirmSamples = 2 });
            Run(rules, At(10, Car(CarBox)));
            return Assert.IsType<CaseOpened>(Assert.Single(Run(rules, At(11, Car(CarBox))))).CaseId;
        }
        Assert.Equal(Play(), Play());
    }

    [Fact]
    public void A_remembered_case_from_before_a_restart_is_not_raised_again()
    {
        var rules = new TrackedRules(Cam(), new RuleOptions { ConfirmSamples = 1 });
        rules.Remember(new Case { Id = "cs-old", CaseType = "illegal_parking", CameraId = "cam-1", GroupId = "g", Box = CarBox, LastSeen = T0, Confidence = 0.9f });
        var decisions = Run(rules, At(5, Car(CarBox)));
        Assert.DoesNotContain(decisions, d => d is CaseOpened);
    }
}
