using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CitySight.Tests;

namespace CitySight.CommandCentre.Tests;

/// <summary>GET /api/v1/map/base: the operator's GeoJSON as the map's base, or plain coordinates; a bad file named.</summary>
public sealed class MapBaseTests
{
    private static readonly string DemoBase = Path.Combine(TestAssets.RepoRoot, "configs", "map", "demo-streets.geojson");

    [Fact]
    public async Task Without_a_base_the_map_draws_plain_coordinates()
    {
        await using var server = await ConsoleServer.StartAsync();
        var map = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/map/base");
        Assert.False(map.GetProperty("configured").GetBoolean());
        Assert.Equal(JsonValueKind.Null, map.GetProperty("geoJson").ValueKind);
    }

    [Fact]
    public async Task The_operators_geojson_is_served_with_the_box_it_spans()
    {
        await using var server = await ConsoleServer.StartAsync(configure: o => o with { MapGeoJson = DemoBase });
        var map = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/map/base");
        Assert.True(map.GetProperty("configured").GetBoolean());
        Assert.Equal("demo-streets.geojson", map.GetProperty("file").GetString());
        Assert.Equal([121.4712, 31.2285, 121.4772, 31.2330], map.GetProperty("bounds").EnumerateArray().Select(b => b.GetDouble()));
        var geo = map.GetProperty("geoJson");
        Assert.Equal("FeatureCollection", geo.GetProperty("type").GetString());
        Assert.Contains(geo.GetProperty("features").EnumerateArray(), f => f.GetProperty("geometry").GetProperty("type").GetString() == "Polygon");
    }

    [Theory]
    [InlineData("{\"type\": \"FeatureCollection\",\n  \"features\": [oops]}", "not valid JSON at line 2, column 16")]
    [InlineData("{\"type\": \"Topology\", \"objects\": {}}", "not GeoJSON")]
    [InlineData("{\"type\": \"LineString\", \"coordinates\": [[13520000, 3660000], [13521000, 3661000]]}", "is not WGS84")]
    public async Task A_file_that_is_not_a_wgs84_geojson_is_named_with_what_is_wrong(string content, string problem)
    {
        var file = Path.Combine(TestAssets.TempDir("map-base"), "streets.geojson");
        await File.WriteAllTextAsync(file, content);
        await using var server = await ConsoleServer.StartAsync(configure: o => o with { MapGeoJson = file });
        var reply = await server.Http.GetAsync("/api/v1/map/base");
        Assert.Equal(HttpStatusCode.InternalServerError, reply.StatusCode);
        var error = (await reply.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString()!;
        Assert.StartsWith($"console.map.geojson: {file}: ", error);
        Assert.Contains(problem, error);

        // Fixed on disk: the next request serves it, no restart.
        await File.WriteAllTextAsync(file, "{\"type\": \"LineString\", \"coordinates\": [[121.47, 31.23], [121.48, 31.24]]}");
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(5));
        Assert.True((await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/map/base")).GetProperty("configured").GetBoolean());
    }

    [Fact]
    public async Task A_base_removed_after_start_is_named()
    {
        var file = Path.Combine(TestAssets.TempDir("map-base"), "gone.geojson");
        await using var server = await ConsoleServer.StartAsync(configure: o => o with { MapGeoJson = file });
        var error = (await (await server.Http.GetAsync("/api/v1/map/base")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString()!;
        Assert.Contains(file, error);
        Assert.Contains("file not found", error);
    }
}
