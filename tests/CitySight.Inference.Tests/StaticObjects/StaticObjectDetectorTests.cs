using CitySight.Domain;
using CitySight.Inference.StaticObjects;
using CitySight.Tests;

namespace CitySight.Inference.Tests.StaticObjects;

/// <summary>
/// What the static-object pass reports and when: something put down and left, at continuous and patrol sampling;
/// nothing for things passing through or under a masked vehicle; gone when removed; 0 B per frame.
/// </summary>
public class StaticObjectDetectorTests
{
    private static readonly StreetScene Scene = StreetScene.ParkingLot;
    private static readonly byte[] Clear = Scene.Render();
    private static readonly byte[] WithObject = Scene.Render(new Look(Object: Scene.Spot));
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);
    private static TimeSpan M(double minutes) => TimeSpan.FromMinutes(minutes);

    internal static void AssertObjectAt(List<Detection> found, Box expected, string when)
    {
        Assert.True(found.Count == 1, $"{when}: expected exactly one static object, got {found.Count}: {string.Join(", ", found)}");
        var d = found[0];
        Assert.Equal(StaticObjectOptions.ClassName, d.ClassName);
        Assert.Null(d.CaseType);
        Assert.InRange(d.Confidence, 0.5f, 1f);
        Assert.True(d.Box.IoU(expected) >= 0.5f, $"{when}: box {d.Box} vs pasted {expected}: IoU {d.Box.IoU(expected):F2}");
    }

    [Theory]
    [InlineData(1)]   // continuous sampling
    [InlineData(30)]
    [InlineData(60)]  // patrol: one keyframe a minute
    public void An_object_put_down_and_left_is_reported_once_settled_and_still_after_15_minutes(int everySeconds)
    {
        var clock = new SceneClock(new StaticObjectDetector());
        var every = S(everySeconds);
        var settle = clock.Detector.Options.SettleTime;
        clock.Run(TimeSpan.Zero, M(5), every, _ => Clear, (t, found) => Assert.True(found.Count == 0, $"clear scene at {t}"));

        var putDown = M(5);
        var expected = Scene.ObjectBox(Scene.Spot.X, Scene.Spot.Y);
        var firstReported = TimeSpan.MaxValue;
        clock.Run(putDown, putDown + M(15) + every, every, _ => WithObject, (t, found) =>
        {
            if (t - putDown < settle)
            {
                Assert.True(found.Count == 0, $"reported at {t}, before it settled");
                return;
            }
            if (firstReported == TimeSpan.MaxValue) firstReported = t;
            AssertObjectAt(found, expected, $"{t} ({t - putDown} after it was put down)");
        });
        Assert.True(firstReported - putDown < settle + every, $"first reported {firstReported - putDown} after it was put down");
    }

    [Fact]
    public void An_object_left_past_the_garbage_dwell_is_reported_throughout_one_track_long_and_absorbed_only_after_the_absorb_time()
    {
        var options = new StaticObjectOptions { AbsorbTime = TimeSpan.FromMinutes(40) };
        var clock = new SceneClock(new StaticObjectDetector(options));
        var expected = Scene.ObjectBox(Scene.Spot.X, Scene.Spot.Y);
        clock.Run(TimeSpan.Zero, M(2), S(30), _ => Clear, (_, _) => { });

        // Every frame from settling until the absorb time carries it: the tracker keeps one track, one case.
        clock.Run(M(2), M(42), S(30), _ => WithObject, (t, found) =>
        {
            if (t - M(2) >= options.SettleTime) AssertObjectAt(found, expected, t.ToString());
        });
        clock.Run(M(42), M(60), S(30), _ => WithObject, (t, found) => Assert.True(found.Count == 0, $"still reported at {t}, past the absorb time"));
    }

    [Fact]
    public void Removing_the_object_ends_its_reports_and_the_reference_heals()
    {
        var clock = new SceneClock(new StaticObjectDetector());
        var expected = Scene.ObjectBox(Scene.Spot.X, Scene.Spot.Y);
        clock.Run(TimeSpan.Zero, M(2), S(10), _ => Clear, (_, _) => { });
        clock.Run(M(2), M(20), S(10), _ => WithObject, (_, _) => { });
        AssertObjectAt(clock.Last, expected, "before removal");

        clock.Run(M(20), M(40), S(10), _ => Clear, (t, found) => Assert.True(found.Count == 0, $"reported at {t}, after it was removed"));

        // Healed: put down again, it is found again just as the first time.
        clock.Run(M(40), M(45), S(10), _ => WithObject, (t, found) =>
        {
            if (t - M(40) >= clock.Detector.Options.SettleTime) AssertObjectAt(found, expected, $"again at {t}");
        });
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Something_passing_through_for_less_than_the_settle_time_is_never_reported(int everySeconds)
    {
        var clock = new SceneClock(new StaticObjectDetector());
        var settle = clock.Detector.Options.SettleTime;
        var every = S(everySeconds);
        // A thing that stops for 20 s at one place, then at the next, across the lot, over 10 minutes.
        var spots = new (int X, int Y)[] { (40, 340), (200, 360), (300, 330), (420, 380), (500, 250), (120, 390) };
        var frames = spots.Select(p => Scene.Render(new Look(Object: p))).ToArray();
        var stay = settle - S(10);
        clock.Run(TimeSpan.Zero, M(2), every, _ => Clear, (_, _) => { });
        clock.Run(M(2), M(12), every, t =>
        {
            var slot = (int)((t - M(2)).Ticks / (stay + S(20)).Ticks);
            var inSlot = (t - M(2)).Ticks % (stay + S(20)).Ticks;
            return inSlot < stay.Ticks ? frames[slot % frames.Length] : Clear;
        }, (t, found) => Assert.True(found.Count == 0, $"something passing through reported at {t}"));
    }

    [Fact]
    public void A_still_thing_inside_a_masked_box_is_never_reported()
    {
        var clock = new SceneClock(new StaticObjectDetector());
        // The model's box of a parked car around the spot, a little larger than it, as a detector draws it.
        var car = new Box(Scene.Spot.X - 10, Scene.Spot.Y - 12, Scene.Spot.X + Scene.PatchWidth + 8, Scene.Spot.Y + Scene.PatchHeight + 6);
        clock.Run(TimeSpan.Zero, M(2), S(10), _ => Clear, (_, _) => { });
        clock.Run(M(2), M(30), S(10), _ => WithObject, (t, found) => Assert.True(found.Count == 0, $"masked car reported at {t}"), car);
        // It drives off: the ground under it is what the reference holds, nothing to report.
        clock.Run(M(30), M(35), S(10), _ => Clear, (t, found) => Assert.True(found.Count == 0, $"reported at {t} after the car left"));
    }

    [Fact]
    public void A_car_parked_at_the_first_frame_leaves_no_ghost_when_it_drives_off()
    {
        var clock = new SceneClock(new StaticObjectDetector());
        var car = new Box(Scene.Spot.X - 4, Scene.Spot.Y - 4, Scene.Spot.X + Scene.PatchWidth + 4, Scene.Spot.Y + Scene.PatchHeight + 4);
        clock.Run(TimeSpan.Zero, M(5), S(10), _ => WithObject, (t, found) => Assert.True(found.Count == 0, $"reported at {t}"), car);
        clock.Run(M(5), M(20), S(10), _ => Clear, (t, found) => Assert.True(found.Count == 0, $"ghost of the car reported at {t}"));
        // The ground it learnt there is a proper reference: something put there now is found.
        clock.Run(M(20), M(22), S(10), _ => WithObject, (_, _) => { });
        AssertObjectAt(clock.Last, Scene.ObjectBox(Scene.Spot.X, Scene.Spot.Y), "put where the car had been");
    }

    [Fact]
    public void Detect_allocates_nothing_per_frame_in_steady_state()
    {
        var detector = new StaticObjectDetector();
        var masked = new[] { new Box(20, 300, 120, 400) };
        for (var i = 0; i < 40; i++)
        {
            var pixels = i < 5 ? Clear : WithObject;
            var f = new Frame("cam", i, SceneClock.Start + TimeSpan.FromSeconds(10 * i), Scene.Width, Scene.Height, pixels);
            detector.Detect(f, masked);
        }
        var frames = new Frame[64];
        for (var i = 0; i < frames.Length; i++)
            frames[i] = new Frame("cam", 40 + i, SceneClock.Start + TimeSpan.FromSeconds(400 + 10 * i), Scene.Width, Scene.Height, WithObject);
        Assert.Single(detector.Detect(frames[0], masked));

        var bytes = SteadyState.AllocatedBytes(i => detector.Detect(frames[1 + i % 63], masked), times: 20);

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void Options_that_would_swallow_an_object_before_it_settles_are_refused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new StaticObjectDetector(new StaticObjectOptions { SettleTime = TimeSpan.FromMinutes(5), AbsorbTime = TimeSpan.FromMinutes(1) }));
        Assert.Contains("absorb_time", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new StaticObjectDetector(new StaticObjectOptions { CellsAcross = 0 }));
    }
}
