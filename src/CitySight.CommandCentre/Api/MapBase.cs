using System.Text.Json;

namespace CitySight.CommandCentre.Api;

/// <summary>
/// The map's base as the operator supplied it (console.map.geojson): the GeoJSON as written, its file's name and the
/// box its coordinates span ([west, south, east, north], WGS84). <see cref="Configured"/> false: there is none, and the
/// map draws plain coordinates around the cameras.
/// </summary>
public sealed record MapBase(bool Configured, string? File, double[]? Bounds, JsonElement? GeoJson);
