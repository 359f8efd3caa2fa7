using CitySight.Rules;
using CitySight.Domain;
using CitySight.Tests;

namespace CitySight.Configuration.Tests;

/// <summary>The configs/ folder in the repository is what the demo runs with: it must load cleanly.</summary>
public class ShippedConfigTests
{
    private static readonly string MainPath = Path.Combine(TestAssets.RepoRoot, "configs", "citysight.yaml");

    [Fact]
    public void Shipped_config_loads_without_errors()
    {
        var r = ConfigLoader.Load(MainPath);
        Assert.True(r.Errors.Count == 0, TestConfig.AllErrors(r));
        var c = r.Config!;

        Assert.Equal(MainPath, c.SourceFile);
        Assert.Equal(50051, c.Service.GrpcPort);
        Assert.Equal(8080, c.Service.HttpPort);
        // Relative paths resolve against configs/, not the test's current folder.
        Assert.Equal(Path.Combine(TestAssets.RepoRoot, "data"), c.Service.DataDir);
        Assert.Equal(Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml"), c.Models.Manifest);
        Assert.Equal("yolov8n-coco-int8", Assert.Single(c.Models.Run).Model);
        Assert.Equal(
            [Path.Combine(TestAssets.RepoRoot, "models"), Path.GetFullPath(Path.Combine(TestAssets.RepoRoot, "..", "shared", "assets", "models"))],
            c.Models.SearchPaths);
        Assert.Equal(3, c.Rules.ConfirmSamples);
        Assert.Equal(0.35f, c.Rules.MinConfidence);
        Assert.Equal(0.3f, c.Rules.SameObjectIoU);
        Assert.Equal(TimeSpan.FromMinutes(10), c.Rules.DedupWindow);
        Assert.Equal("Asia/Shanghai", c.Service.TimeZone.Id);

        // The shipped file is the demo's: parking needs only a short dwell so the demo shows a case within a minute;
        // the built-in default stays the districts' ten minutes.
        var parkingRules = c.Rules.RuleFor("illegal_parking");
        Assert.Equal(TimeSpan.FromSeconds(2), parkingRules.MinDwell);
        // The demo clip is a time-lapse: its cars are never still for long, so presence counts there.
        Assert.False(parkingRules.RequireStationary);
        Assert.True(RuleOptions.BuiltIn("illegal_parking").RequireStationary);
        Assert.Equal(0.35f, parkingRules.MinConfidence);
        Assert.Equal(TimeSpan.FromMinutes(10), RuleOptions.BuiltIn("illegal_parking").MinDwell);
        // Likewise garbage, for the demo's materials scene, which loops every 90 s: stationary 20 s, not the built-in 10 minutes.
        Assert.Equal(RuleOptions.BuiltIn("garbage") with { MinConfidence = 0.35f, MinDwell = TimeSpan.FromSeconds(20) }, c.Rules.RuleFor("garbage"));
        Assert.Equal(TimeSpan.FromMinutes(10), RuleOptions.BuiltIn("garbage").MinDwell);
        foreach (var type in new[] { "street_stall", "billboard" })
            Assert.Equal(RuleOptions.BuiltIn(type) with { MinConfidence = 0.35f }, c.Rules.RuleFor(type));
        Assert.Equal(new SiteDedupOptions { SamePlaceRadiusMetres = 15, Window = TimeSpan.FromMinutes(30), Cooldown = TimeSpan.FromMinutes(30) }, c.Dedup);
        Assert.Equal(Path.Combine(TestAssets.RepoRoot, "configs", "cameras"), c.CamerasDir);

        var parking = c.FindCaseType("illegal_parking")!;
        Assert.Equal(("0302", "机动车乱停放", "街面秩序"), (parking.Code, parking.NameZh, parking.MajorClass));
        Assert.Equal(CaseType.Defaults.Select(t => t.Id), c.CaseTypes.Select(t => t.Id));
    }

    [Fact]
    public void Shipped_config_has_the_demo_camera_and_its_zone()
    {
        var c = ConfigLoader.LoadOrThrow(MainPath);
        var cam = Assert.Single(c.Cameras, x => x.Id == "parking-lot-1");

        Assert.Equal("rtsp://127.0.0.1:8554/parking-lot", cam.Url);
        Assert.Equal("demo-street", cam.GroupId);
        Assert.Equal(TimeSpan.FromSeconds(1), cam.SampleInterval);
        Assert.Equal(["illegal_parking"], cam.Detectors);
        Assert.True(cam.Enabled);
        Assert.False(cam.Loop);
        Assert.Equal(31.2304, cam.Latitude);
        Assert.Equal(121.4737, cam.Longitude);
        Assert.Equal("Asia/Shanghai", cam.TimeZone.Id);
        Assert.Equal(4, cam.Ground.Count);
        Assert.Equal(new GroundPoint(new NormalisedPoint(0.05, 0.95), 31.23015, 121.47355), cam.Ground[0]);

        var group = c.GroupOf(cam)!;
        Assert.Equal(("Demo district", "Demo Road", "310101001001", "Demo street team"),
            (group.District, group.Street, group.Grid, group.ResponsibleUnit));

        var zone = Assert.Single(cam.Zones);
        Assert.False(zone.Exclude);
        Assert.Null(zone.Schedule);
        Assert.Equal("site-road-no-parking", zone.Name);
        Assert.Equal([new(0, 0.3), new(1, 0.3), new(1, 1), new(0, 1)], zone.Polygon);
        Assert.Equal(["illegal_parking"], zone.CaseTypes);
        // The zone is the lower 70% of the image.
        Assert.Equal("site-road-no-parking", cam.ZoneFor("illegal_parking", new NormalisedPoint(0.5, 0.9)));
        Assert.Null(cam.ZoneFor("illegal_parking", new NormalisedPoint(0.5, 0.1)));
        // No schedule: in force around the clock.
        Assert.Equal("site-road-no-parking", cam.ZoneFor("illegal_parking", new NormalisedPoint(0.5, 0.9), new DateTimeOffset(2024, 6, 1, 3, 0, 0, TimeSpan.FromHours(8))));
    }
}
