namespace CitySight.Configuration;

/// <summary>console: the command-centre console's map base.</summary>
internal static class ConsoleSection
{
    public static ConsoleSettings Read(Section top)
    {
        var s = new ConsoleSettings();
        if (top.Child("console") is not { } sec || sec.Child("map") is not { } map) return s;
        return s with { MapGeoJson = map.ExistingFile("geojson") };
    }
}
