namespace CitySight.Configuration;

/// <summary>console: the command-centre console's settings (the page served on the HTTP port).</summary>
public sealed record ConsoleSettings
{
    /// <summary>
    /// console.map.geojson: the operator's map base, a GeoJSON file of streets and grids in WGS84 (absolute, checked to
    /// exist when loaded); null: the map draws plain coordinates. No tile server is needed or reached.
    /// </summary>
    public string? MapGeoJson { get; init; }
}
