using CitySight.Domain;
using CitySight.Inference.StaticObjects;

namespace CitySight.Inference.Tests.StaticObjects;

/// <summary>
/// A large model box coming and going (a bus stopping in front of the camera, a crowd) changes which cells the pass
/// sees, not the light: an object already left must stay found through it and after, and nothing may be re-seeded.
/// </summary>
public class StaticObjectMaskingTests
{
    private static readonly StreetScene Scene = StreetScene.ParkingLot;
    private static readonly Box Expected = Scene.ObjectBox(Scene.Spot.X, Scene.Spot.Y);

    public static TheoryData<string, float, float, float, float> LargeBoxes => new()
    {
        // Each clear of the object (its top-left corner at the scene's spot), each well over a third of the picture.
        { "left 45%", 0, 0, 0.45f, 1 },
        { "right 35%", 0.65f, 0, 1, 1 },
        { "top 60%", 0, 0, 1, 0.6f },
        { "bottom band beside", 0, 0.85f, 1, 1 },
    };

    [Fact]
    public void In_a_busy_picture_mostly_masked_already_one_more_box_blinds_nothing()
    {
        // A bus and people cover the top 60% and the left 45% the whole time; then a van stops on the right.
        var clock = new SceneClock(new StaticObjectDetector());
        var withObject = Scene.Render(new Look(Object: Scene.Spot));
        var clear = Scene.Render();
        Box[] always = [new(0, 0, Scene.Width, 0.6f * Scene.Height), new(0, 0, 0.45f * Scene.Width, Scene.Height)];
        Box[] withVan = [.. always, new(0.65f * Scene.Width, 0.6f * Scene.Height, Scene.Width, Scene.Height)];
        clock.Run(TimeSpan.Zero, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(5), _ => clear, (_, _) => { }, always);
        clock.Run(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(3), TimeSpan.FromSeconds(5), _ => withObject, (_, _) => { }, always);
        StaticObjectDetectorTests.AssertObjectAt(clock.Last, Expected, "before the van came");
        clock.Run(TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(5), _ => withObject,
            (t, found) => StaticObjectDetectorTests.AssertObjectAt(found, Expected, $"at {t}, the van there"), withVan);
        clock.Run(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(7), TimeSpan.FromSeconds(5), _ => withObject,
            (t, found) => StaticObjectDetectorTests.AssertObjectAt(found, Expected, $"at {t}, the van gone"), always);
        Assert.Equal(0, clock.Detector.Reseeds);
    }

    [Theory]
    [MemberData(nameof(LargeBoxes))]
    public void An_object_left_stays_found_while_a_large_box_covers_much_of_the_rest_of_the_picture(string where, float x1, float y1, float x2, float y2)
    {
        var clock = new SceneClock(new StaticObjectDetector());
        var withObject = Scene.Render(new Look(Object: Scene.Spot));
        var bus = new Box(x1 * Scene.Width, y1 * Scene.Height, x2 * Scene.Width, y2 * Scene.Height);
        Assert.True(bus.IoU(Expected) == 0, $"{where}: the box must not cover the object");
        var clear = Scene.Render();
        clock.Run(TimeSpan.Zero, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(5), _ => clear, (_, _) => { });
        // Left at 1 min; reported from about 1.5 min on.
        clock.Run(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(3), TimeSpan.FromSeconds(5), _ => withObject, (_, _) => { });
        StaticObjectDetectorTests.AssertObjectAt(clock.Last, Expected, $"{where}: before the box came");
        // The box stands for 2 minutes, then goes.
        clock.Run(TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(5), _ => withObject,
            (t, found) => StaticObjectDetectorTests.AssertObjectAt(found, Expected, $"{where}: at {t}, the box there"), bus);
        clock.Run(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(7), TimeSpan.FromSeconds(5), _ => withObject,
            (t, found) => StaticObjectDetectorTests.AssertObjectAt(found, Expected, $"{where}: at {t}, the box gone"));
        Assert.Equal(0, clock.Detector.Reseeds);
    }
}
