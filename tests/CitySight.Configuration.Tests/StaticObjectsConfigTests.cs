namespace CitySight.Configuration.Tests;

public class StaticObjectsConfigTests
{
    [Fact]
    public void Static_object_settings_land_on_the_options_the_detection_stage_gets()
    {
        var result = new TestConfig("models:\n  static_objects:\n    settle_time: 1m\n    absorb_time: 3h\n    min_region_fraction: 0.005\n").Load();

        Assert.True(result.Success, TestConfig.AllErrors(result));
        var o = result.Config!.Models.StaticObjects;
        Assert.Equal(TimeSpan.FromMinutes(1), o.SettleTime);
        Assert.Equal(TimeSpan.FromHours(3), o.AbsorbTime);
        Assert.Equal(0.005f, o.MinRegionFraction);
        Assert.Equal(new CitySight.Inference.StaticObjects.StaticObjectOptions().MaxRegionFraction, o.MaxRegionFraction);
    }

    [Fact]
    public void An_absorb_time_shorter_than_the_settle_time_is_refused_at_its_line()
    {
        var cfg = new TestConfig();
        var yaml = "models:\n  static_objects:\n    settle_time: 10m\n    absorb_time: 5m #<absorb\n";
        File.WriteAllText(cfg.MainPath, yaml);

        var result = cfg.Load();

        Assert.False(result.Success);
        var e = TestConfig.Single(result, "models.static_objects.absorb_time");
        Assert.Equal(cfg.MainPath, e.File);
        Assert.Equal(TestConfig.LineOf(yaml, "#<absorb"), e.Line);
        Assert.Contains("must be longer than settle_time", e.Message);
    }

    [Fact]
    public void A_settle_time_past_the_default_absorb_time_is_refused_at_the_settle_time()
    {
        var yaml = "models:\n  static_objects:\n    settle_time: 3h #<settle\n";
        var e = TestConfig.Single(new TestConfig(yaml).Load(), "models.static_objects.settle_time");
        Assert.Equal(TestConfig.LineOf(yaml, "#<settle"), e.Line);
        Assert.Contains("absorb_time (7200s)", e.Message);
    }

    [Fact]
    public void A_min_region_not_below_the_max_region_is_refused()
    {
        var yaml = "models:\n  static_objects:\n    min_region_fraction: 0.5 #<min\n    max_region_fraction: 0.4\n";
        var e = TestConfig.Single(new TestConfig(yaml).Load(), "models.static_objects.min_region_fraction");
        Assert.Equal(TestConfig.LineOf(yaml, "#<min"), e.Line);
        Assert.Contains("must be below max_region_fraction", e.Message);
    }
}
