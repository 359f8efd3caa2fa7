using CitySight.Domain;

namespace CitySight.Rules.Tests;

/// <summary>
/// Street stalls without a trained model: a person (COCO) who stays in a no-vending zone for the stall's dwell with
/// goods beside them (a static object, or an umbrella, table, chair, cart a COCO model knows), fed through the real
/// tracking stage as the pipeline feeds it. Passers-by, a queue, someone waiting at a crossing raise nothing.
/// </summary>
public class StreetStallRuleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 8, 0, 0, TimeSpan.FromHours(8));
    private static readonly Box Vendor = new(300, 300, 340, 420);          // a standing person, 120 px tall
    private static readonly Box Goods = new(345, 385, 420, 425);           // put down beside the person's foot
    private static readonly Box FarGoods = new(560, 385, 630, 425);        // 220 px away: someone else's

    private static readonly Zone Pavement = new("pavement",
        [new(0, 0.5), new(1, 0.5), new(1, 1), new(0, 1)], ["street_stall", "garbage"]);

    private static Camera Cam(params string[] detectors) => new()
    {
        Id = "cam-1", Name = "cam", GroupId = "g", Url = "x.mp4", Detectors = detectors, Zones = [Pavement],
    };

    // A loaded configuration's rules: the built-in ones (stall present 5 minutes; garbage stationary 10 minutes).
    private static readonly RuleOptions Options = new() { ConfirmSamples = 2, CaseTypes = new Dictionary<string, CaseTypeRuleOverrides>() };

    private static Detection Person(Box box) => new(0, "person", 0.8f, box, null);
    // The static-object pass's goods on a zone asking for stalls and garbage are garbage; on a stall-only zone, no type.
    private static Detection StaticObject(Box box, string? type) => new(-1, "static_object", 0.7f, box, type);

    private static List<CaseDecision> Run(TrackedRules rules, double seconds, params Detection[] detections) =>
        rules.Evaluate(new DetectedFrame(Frame.Rent("cam-1", (long)seconds, T0.AddSeconds(seconds), 640, 480), detections, TimeSpan.Zero));

    private static Box Sway(Box b, double s) => b with { X1 = b.X1 + (float)(s % 15), X2 = b.X2 + (float)(s % 15) };

    /// <summary>Samples every 5 s for <paramref name="minutes"/>; the cases opened with the second they were opened at.</summary>
    private static List<(double At, CaseOpened Case)> Play(TrackedRules rules, double minutes, Func<double, Detection[]> scene)
    {
        var opened = new List<(double, CaseOpened)>();
        for (double s = 0; s <= minutes * 60; s += 5)
            foreach (var d in Run(rules, s, scene(s)))
                if (d is CaseOpened o) opened.Add((s, o));
        return opened;
    }

    [Fact]
    public void A_vendor_who_stays_beside_goods_is_one_stall_case_after_the_dwell()
    {
        var rules = new TrackedRules(Cam("street_stall"), Options);
        var opened = Play(rules, 8, s => [Person(Sway(Vendor, s)), StaticObject(Goods, null)]);

        var (at, stall) = Assert.Single(opened);
        Assert.Equal("street_stall", stall.Hit.CaseType);
        Assert.InRange(at, 300, 310);                         // present 5 minutes, from the first sample
        Assert.Equal("person+static_object", stall.Hit.ClassName);
        // The case shows the person and the goods together.
        Assert.True(stall.Hit.Box.X1 <= Vendor.X1 + 15 && stall.Hit.Box.X2 >= Goods.X2 && stall.Hit.Box.Y2 >= Goods.Y2);
    }

    [Fact]
    public void Someone_waiting_at_a_crossing_with_nothing_beside_them_raises_nothing()
    {
        var rules = new TrackedRules(Cam("street_stall"), Options);
        Assert.Empty(Play(rules, 10, s => [Person(Sway(Vendor, s))]));
    }

    [Fact]
    public void Goods_out_of_reach_of_the_person_are_not_theirs()
    {
        var rules = new TrackedRules(Cam("street_stall"), Options);
        Assert.Empty(Play(rules, 10, s => [Person(Sway(Vendor, s)), StaticObject(FarGoods, null)]));
    }

    [Fact]
    public void People_passing_goods_on_the_pavement_raise_nothing()
    {
        var rules = new TrackedRules(Cam("street_stall"), Options);
        // Someone walks across the frame every 30 s (40 px/s), right past the goods.
        Assert.Empty(Play(rules, 10, s =>
        {
            var x = (float)(s % 30) * 40 - 200;
            return [Person(new Box(x, 300, x + 40, 420)), StaticObject(Goods, null)];
        }));
    }

    [Fact]
    public void Goods_just_set_down_count_only_once_they_have_stood_a_while()
    {
        var rules = new TrackedRules(Cam("street_stall"), Options);
        // The person has been there from the start; the goods come at 6 min.
        var opened = Play(rules, 9, s => s < 360 ? [Person(Sway(Vendor, s))] : [Person(Sway(Vendor, s)), StaticObject(Goods, null)]);
        var (at, _) = Assert.Single(opened);
        // The goods must have stood StallItemStill (1 minute) from their first sample: not before 7 minutes.
        Assert.InRange(at, 420, 430);
    }

    [Fact]
    public void A_motorbike_standing_as_a_cart_is_goods_and_no_parking_case_on_a_stall_only_camera()
    {
        // No zones: the whole picture counts, so a motorbike tracked as illegal_parking would be a parking case at 10 min.
        var rules = new TrackedRules(Cam("street_stall") with { Zones = [] }, Options);
        var cart = new Detection(3, "motorbike", 0.7f, Goods, "illegal_parking");
        var opened = Play(rules, 12, s => [Person(Sway(Vendor, s)), cart]);
        var (_, stall) = Assert.Single(opened);
        Assert.Equal(("street_stall", "person+motorbike"), (stall.Hit.CaseType, stall.Hit.ClassName));
    }

    [Fact]
    public void A_stalls_goods_are_not_a_second_case_as_garbage()
    {
        var rules = new TrackedRules(Cam("street_stall", "garbage"), Options);
        // 14 minutes: the goods outlast the garbage dwell (stationary 10 minutes) under the open stall case.
        var opened = Play(rules, 14, s => [Person(Sway(Vendor, s)), StaticObject(Goods, "garbage")]);
        var (_, stall) = Assert.Single(opened);
        Assert.Equal("street_stall", stall.Hit.CaseType);
    }

    [Fact]
    public void Goods_left_without_anyone_are_garbage_on_a_camera_asking_for_both()
    {
        var rules = new TrackedRules(Cam("street_stall", "garbage"), Options);
        var opened = Play(rules, 12, _ => [StaticObject(Goods, "garbage")]);
        var (at, garbage) = Assert.Single(opened);
        Assert.Equal("garbage", garbage.Hit.CaseType);
        Assert.InRange(at, 600, 620);
    }
}
