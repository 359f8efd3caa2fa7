using CitySight.Inference;
using static CitySight.Configuration.ConfigKeyKind;

namespace CitySight.Configuration;

/// <summary>The keys of citysight.yaml's console section (see the recipe in ConfigKeys.cs).</summary>
public static partial class ConfigKeys
{
    private static IEnumerable<ConfigKey> ConsoleKeys()
    {
        yield return Container(M, "console", Mapping, "The command-centre console on the HTTP port.");
        var pictures = new KeysOf<PictureOptions>(M, new(), c => c.Pictures);
        yield return pictures.Key("console.picture_interval", Duration, p => p.Interval,
            "Each camera's latest picture (wall, zone editor) is taken at most this often; 1s to 1h.", "30s", min: 0, minExclusive: true);
        yield return Container(M, "console.map", Mapping, "The console's map: cameras and open cases on an operator-supplied base.");
        var console = new KeysOf<ConsoleSettings>(M, new(), c => c.Console);
        yield return console.Key("console.map.geojson", ConfigKeyKind.File, s => s.MapGeoJson,
            "GeoJSON (WGS84) of streets and grids drawn under the map; unset: plain coordinates. No tiles are fetched.", SampleFile);
    }
}
