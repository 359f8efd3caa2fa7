using CitySight.Domain;
using CitySight.Inference.StaticObjects;

namespace CitySight.Inference.Tests.StaticObjects;

/// <summary>
/// What a static object means is its zone's to say: the same object put down raises garbage on the ground, a billboard
/// on a façade zone, and no case type in a zone asking only for stalls (goods, for the stall rule to find).
/// </summary>
public class StaticObjectZoneTests
{
    private static readonly StreetScene Scene = StreetScene.ParkingLot;
    private static readonly DateTimeOffset Start = new(2026, 5, 4, 9, 0, 0, TimeSpan.Zero);

    // The scene's spot is on the car park's ground; its foot is at the patch's bottom centre.
    private static NormalisedPoint Foot()
    {
        var box = Scene.ObjectBox(Scene.Spot.X, Scene.Spot.Y);
        return box.BottomCentre(Scene.Width, Scene.Height);
    }

    /// <summary>A zone of the given types around the object's foot (a 10%-wide square).</summary>
    private static Zone Around(string name, params string[] types)
    {
        var f = Foot();
        return new Zone(name, [new(f.X - 0.05, f.Y - 0.05), new(f.X + 0.05, f.Y - 0.05), new(f.X + 0.05, f.Y + 0.05), new(f.X - 0.05, f.Y + 0.05)], types);
    }

    /// <summary>The upper third of the picture: the buildings and fence behind the car park.</summary>
    private static readonly Zone Facade = new("facade", [new(0, 0), new(1, 0), new(1, 0.33), new(0, 0.33)], ["billboard"]);

    private static Camera Cam(string[] detectors, params Zone[] zones) => new()
    {
        Id = "cam-z", Name = "cam", GroupId = "g", Url = "x.mp4", Detectors = detectors, Zones = zones,
    };

    /// <summary>The object is put down at 20 s; the static objects the pass reports at 90 s (settled by then).</summary>
    private static List<Detection> StaticObjectsAfterSettling(Camera camera)
    {
        var pass = new CameraStaticPass(camera);
        var empty = Scene.Render();
        var withObject = Scene.Render(new Look(Object: Scene.Spot));
        IReadOnlyList<Detection> last = [];
        for (var s = 0; s <= 90; s += 5)
        {
            using var frame = Frame.Rent(camera.Id, s, Start.AddSeconds(s), Scene.Width, Scene.Height);
            (s >= 20 ? withObject : empty).CopyTo(frame.Bgr);
            last = pass.Run(frame, []);
        }
        var statics = last.Where(d => d.ClassName == ModelFreeTypes.StaticObjectClass).ToList();
        Assert.NotEmpty(statics);
        return statics;
    }

    [Fact]
    public void On_the_ground_a_static_object_is_garbage_even_where_a_facade_zone_also_exists()
    {
        var camera = Cam(["garbage", "billboard"], Around("pavement", "garbage"), Facade);
        Assert.All(StaticObjectsAfterSettling(camera), d => Assert.Equal("garbage", d.CaseType));
    }

    [Fact]
    public void On_a_facade_zone_a_static_object_is_a_billboard()
    {
        // The camera asks for both; only the billboard zone holds the object's foot.
        var camera = Cam(["garbage", "billboard"], Around("shop-front", "billboard"), Facade with { CaseTypes = ["garbage"] });
        Assert.All(StaticObjectsAfterSettling(camera), d => Assert.Equal("billboard", d.CaseType));
    }

    [Fact]
    public void In_a_stall_only_zone_a_static_object_has_no_case_type_it_is_goods()
    {
        var camera = Cam(["street_stall"], Around("no-vending", "street_stall"));
        Assert.All(StaticObjectsAfterSettling(camera), d => Assert.Null(d.CaseType));
    }

    [Fact]
    public void Without_zones_garbage_comes_first_else_billboard()
    {
        Assert.All(StaticObjectsAfterSettling(Cam(["billboard", "garbage"])), d => Assert.Equal("garbage", d.CaseType));
        Assert.All(StaticObjectsAfterSettling(Cam(["billboard"])), d => Assert.Equal("billboard", d.CaseType));
    }

    [Fact]
    public void Cameras_asking_for_any_model_free_type_get_the_pass_others_do_not()
    {
        Assert.True(ModelFreeTypes.AnyAskedBy(Cam(["street_stall"])));
        Assert.True(ModelFreeTypes.AnyAskedBy(Cam(["billboard"])));
        Assert.True(ModelFreeTypes.AnyAskedBy(Cam(["illegal_parking", "garbage"])));
        Assert.False(ModelFreeTypes.AnyAskedBy(Cam(["illegal_parking"])));
        Assert.False(ModelFreeTypes.AnyAskedBy(null));
    }
}
