namespace CitySight.Configuration.Tests;

/// <summary>console.map.geojson: the console's map base, a file beside the configuration.</summary>
public sealed class ConsoleConfigTests
{
    [Fact]
    public void The_map_base_is_resolved_against_the_configs_folder()
    {
        var cfg = new TestConfig("console:\n  map:\n    geojson: map/streets.geojson\n");
        Directory.CreateDirectory(Path.Combine(cfg.Dir, "map"));
        File.WriteAllText(Path.Combine(cfg.Dir, "map", "streets.geojson"), "{\"type\": \"FeatureCollection\", \"features\": []}");
        var r = cfg.Load();
        Assert.True(r.Config is not null, TestConfig.AllErrors(r));
        Assert.Equal(Path.Combine(cfg.Dir, "map", "streets.geojson"), r.Config.Console.MapGeoJson);
    }

    [Fact]
    public void A_missing_map_base_is_an_error_naming_the_file_at_its_key()
    {
        const string yaml = "console:\n  map:\n    geojson: streets-missing.geojson # here\n";
        var cfg = new TestConfig(yaml);
        var e = TestConfig.Single(cfg.Load(), "console.map.geojson");
        Assert.Equal(TestConfig.LineOf(yaml, "# here"), e.Line);
        Assert.Contains("file not found: streets-missing.geojson", e.Message);
        Assert.Contains(Path.Combine(cfg.Dir, "streets-missing.geojson"), e.Message);
    }

    [Fact]
    public void Without_a_map_base_the_console_draws_coordinates()
    {
        var r = new TestConfig("").Load();
        Assert.Null(r.Config!.Console.MapGeoJson);
    }
}
