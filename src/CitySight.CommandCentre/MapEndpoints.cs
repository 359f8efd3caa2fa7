using System.Globalization;
using System.Text.Json;
using CitySight.CommandCentre.Api;
using Microsoft.AspNetCore.Http;

namespace CitySight.CommandCentre;

/// <summary>
/// The map's base: the operator's GeoJSON (console.map.geojson) read from disk, checked and served as it is, so the page
/// draws streets and grids with no tile server. Read again when the file changes; every problem names the file.
/// </summary>
internal sealed class MapEndpoints(string? geoJsonPath)
{
    /// <summary>A base larger than this is refused: the page draws it whole on every screen, it is a street map, not a survey.</summary>
    public const long MaxBytes = 20L * 1024 * 1024;

    private static readonly string[] GeoJsonTypes =
        ["FeatureCollection", "Feature", "GeometryCollection", "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"];

    private readonly Lock _lock = new();
    private (DateTime Written, long Length, MapBase Base)? _cached;

    public IResult Base()
    {
        if (geoJsonPath is null) return Results.Ok(new MapBase(false, null, null, null));
        try
        {
            return Results.Ok(Read(geoJsonPath));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            // The operator's file, by its path: what to fix is in the message.
            return Results.Json(new ApiError($"console.map.geojson: {geoJsonPath}: {ex.Message}"), statusCode: StatusCodes.Status500InternalServerError);
        }
    }

    private MapBase Read(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException("file not found (it was there when the configuration was loaded)");
        lock (_lock)
        {
            if (_cached is { } c && c.Written == info.LastWriteTimeUtc && c.Length == info.Length) return c.Base;
        }
        if (info.Length > MaxBytes) throw new InvalidDataException($"{info.Length} bytes, more than the {MaxBytes} a map base may have");
        using var doc = Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
            || !GeoJsonTypes.Contains(type.GetString()))
            throw new InvalidDataException("not GeoJSON: the top level must be an object whose \"type\" is FeatureCollection, Feature or a geometry");
        var box = new[] { double.MaxValue, double.MaxValue, double.MinValue, double.MinValue };
        Span(root, box);
        if (box[0] > box[2]) throw new InvalidDataException("no coordinates: nothing to draw");
        var read = new MapBase(true, Path.GetFileName(path), box, root.Clone());
        lock (_lock) _cached = (info.LastWriteTimeUtc, info.Length, read);
        return read;
    }

    private static JsonDocument Parse(byte[] bytes)
    {
        try
        {
            return JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            // Where, as an editor counts (the parser counts from 0).
            throw new InvalidDataException($"not valid JSON at line {ex.LineNumber + 1}, column {ex.BytePositionInLine + 1}", ex);
        }
    }

    /// <summary>Widens <paramref name="box"/> by every position under <paramref name="e"/>; a position off WGS84 is refused.</summary>
    private static void Span(JsonElement e, double[] box)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                    if (p.Name is "coordinates" or "geometry" or "geometries" or "features")
                        Span(p.Value, box);
                break;
            case JsonValueKind.Array when e.GetArrayLength() >= 2 && e[0].ValueKind == JsonValueKind.Number:
                double lon = e[0].GetDouble(), lat = e[1].GetDouble();
                if (lon is < -180 or > 180 || lat is < -90 or > 90)
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                        $"position [{lon}, {lat}] is not WGS84 longitude, latitude (a projected file? export it as EPSG:4326)"));
                box[0] = Math.Min(box[0], lon);
                box[1] = Math.Min(box[1], lat);
                box[2] = Math.Max(box[2], lon);
                box[3] = Math.Max(box[3], lat);
                break;
            case JsonValueKind.Array:
                foreach (var item in e.EnumerateArray()) Span(item, box);
                break;
        }
    }
}
