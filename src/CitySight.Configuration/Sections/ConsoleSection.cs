using CitySight.Inference;

namespace CitySight.Configuration;

/// <summary>console: the command-centre console's cameras' pictures and its map base.</summary>
internal static class ConsoleSection
{
    private static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxInterval = TimeSpan.FromHours(1);

    public static ConsoleSettings Read(Section top)
    {
        var s = new ConsoleSettings();
        if (top.Child("console") is not { } sec || sec.Child("map") is not { } map) return s;
        return s with { MapGeoJson = map.ExistingFile("geojson") };
    }

    public static PictureOptions ReadPictures(Section top)
    {
        var p = new PictureOptions();
        if (top.Child("console") is not { } sec) return p;
        if (sec.Duration("picture_interval") is not { } interval) return p;
        // Below a second the encodes start to cost the detector frames; above an hour the picture no longer shows the place.
        if (interval < MinInterval || interval > MaxInterval)
        {
            sec.Src.Error(sec.Value("picture_interval")!.Start, sec.Field("picture_interval"), $"must be 1s to 1h (got {Durations.Format(interval)})");
            return p;
        }
        return p with { Interval = interval };
    }
}
