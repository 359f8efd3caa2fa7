using CitySight.Domain;
using CitySight.Inference.StaticObjects;

namespace CitySight.Inference.Tests.StaticObjects;

/// <summary>
/// What a street camera really shows and must not raise anything: an unchanged scene, sensor and compression noise,
/// shake, a slow dusk, an exposure step, a day/night IR switch; and after any of them a real object is still found.
/// </summary>
public class StaticObjectRobustnessTests
{
    private static readonly StreetScene Scene = StreetScene.ParkingLot;
    private static readonly byte[] Clear = Scene.Render();
    private static readonly Box Expected = Scene.ObjectBox(Scene.Spot.X, Scene.Spot.Y);
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);
    private static TimeSpan M(double minutes) => TimeSpan.FromMinutes(minutes);

    private static void Nothing(TimeSpan t, List<Detection> found) =>
        Assert.True(found.Count == 0, $"reported at {t}: {string.Join(", ", found)}");

    /// <summary>After the disturbance the detector still works: an object put down in the scene as it looks now is found.</summary>
    private static void ObjectStillFound(SceneClock clock, Look look)
    {
        var from = clock.Now + S(30);
        var withObject = Scene.Render(look with { Object = Scene.Spot });
        clock.Run(from, from + M(3), S(30), _ => withObject, (_, _) => { });
        StaticObjectDetectorTests.AssertObjectAt(clock.Last, Expected, $"object put down at {from} after the disturbance");
    }

    [Fact]
    public void An_unchanged_scene_raises_nothing_for_an_hour()
    {
        var clock = new SceneClock(new StaticObjectDetector());
        clock.Run(TimeSpan.Zero, M(60), S(30), _ => Clear, Nothing);
        Assert.Equal(0, clock.Detector.Reseeds);
    }

    [Fact]
    public void Noise_raises_nothing()
    {
        var clock = new SceneClock(new StaticObjectDetector());
        var frames = Enumerable.Range(0, 8).Select(k => Scene.Render(new Look(Noise: 25, NoiseSeed: 1000 + k))).ToArray();
        var i = 0;
        clock.Run(TimeSpan.Zero, M(15), S(5), _ => frames[i++ % frames.Length], Nothing);
        ObjectStillFound(clock, new Look(Noise: 25, NoiseSeed: 7));
    }

    [Fact]
    public void Shake_and_a_lasting_shift_of_a_few_pixels_raise_nothing()
    {
        var clock = new SceneClock(new StaticObjectDetector());
        var shaken = new[]
        {
            Scene.Render(new Look(ShiftX: 2, ShiftY: 1)), Scene.Render(new Look(ShiftX: -3, ShiftY: 2)),
            Scene.Render(new Look(ShiftX: 1, ShiftY: -3)), Clear,
        };
        var i = 0;
        clock.Run(TimeSpan.Zero, M(10), S(2), _ => shaken[i++ % shaken.Length], Nothing);
        // The mount settles 3 pixels off and stays there.
        var shifted = Scene.Render(new Look(ShiftX: 3, ShiftY: 2));
        clock.Run(M(10), M(40), S(30), _ => shifted, Nothing);
        ObjectStillFound(clock, new Look(ShiftX: 3, ShiftY: 2));
    }

    [Fact]
    public void A_slow_dusk_to_40_percent_over_30_minutes_raises_nothing_and_the_reference_keeps_up()
    {
        var clock = new SceneClock(new StaticObjectDetector());
        static float Gain(TimeSpan t) => 1f - 0.6f * (float)Math.Clamp(t / M(30), 0, 1);
        clock.Run(TimeSpan.Zero, M(35), S(30), t => Scene.Render(new Look(Gain: Gain(t))), Nothing);
        Assert.Equal(0, clock.Detector.Reseeds);
        ObjectStillFound(clock, new Look(Gain: 0.4f));
    }

    [Fact]
    public void A_sudden_exposure_step_re_seeds_the_reference_and_raises_nothing()
    {
        var clock = new SceneClock(new StaticObjectDetector());
        clock.Run(TimeSpan.Zero, M(5), S(10), _ => Clear, Nothing);
        var bright = Scene.Render(new Look(Gain: 1.6f));
        clock.Run(M(5), M(20), S(10), _ => bright, Nothing);
        Assert.True(clock.Detector.Reseeds >= 1, "the exposure step did not re-seed the reference");
        ObjectStillFound(clock, new Look(Gain: 1.6f));
    }

    [Fact]
    public void A_day_night_infrared_switch_re_seeds_the_reference_and_raises_nothing()
    {
        var clock = new SceneClock(new StaticObjectDetector());
        clock.Run(TimeSpan.Zero, M(5), S(10), _ => Clear, Nothing);
        var infraRed = Scene.Render(new Look(InfraRed: true));
        clock.Run(M(5), M(20), S(10), _ => infraRed, Nothing);
        Assert.True(clock.Detector.Reseeds >= 1, "the IR switch did not re-seed the reference");
        ObjectStillFound(clock, new Look(InfraRed: true));
        // And back to colour in the morning.
        clock.Run(clock.Now + S(10), clock.Now + M(10), S(10), _ => Clear, Nothing);
    }

    [Fact]
    public void A_cloud_shadow_over_half_the_lot_that_stays_raises_nothing()
    {
        var clock = new SceneClock(new StaticObjectDetector());
        clock.Run(TimeSpan.Zero, M(5), S(10), _ => Clear, Nothing);
        // The left half of the picture a third darker, for ten minutes: too large to be an object.
        var shadowed = (byte[])Clear.Clone();
        var stride = Scene.Width * 3;
        for (var y = 0; y < Scene.Height; y++)
            for (var p = y * stride; p < y * stride + stride / 2; p++) shadowed[p] = (byte)(shadowed[p] * 0.65f);
        clock.Run(M(5), M(15), S(10), _ => shadowed, Nothing);
        clock.Run(M(15), M(20), S(10), _ => Clear, Nothing);
    }
}
