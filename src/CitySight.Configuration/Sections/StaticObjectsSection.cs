using System.Globalization;
using CitySight.Inference.StaticObjects;

namespace CitySight.Configuration;

/// <summary>models.static_objects: the model-free static-object pass that runs beside the models.</summary>
internal static class StaticObjectsSection
{
    public static StaticObjectOptions Read(Section models)
    {
        var o = new StaticObjectOptions();
        if (models.Child("static_objects") is not { } sec) return o;
        var read = o with
        {
            SettleTime = sec.Duration("settle_time") ?? o.SettleTime,
            AbsorbTime = sec.Duration("absorb_time") ?? o.AbsorbTime,
            DifferenceThreshold = (float?)sec.Number("difference_threshold") ?? o.DifferenceThreshold,
            MinRegionFraction = (float?)sec.Number("min_region_fraction") ?? o.MinRegionFraction,
            MaxRegionFraction = (float?)sec.Number("max_region_fraction") ?? o.MaxRegionFraction,
            GlobalChangeFraction = (float?)sec.Number("global_change_fraction") ?? o.GlobalChangeFraction,
            ExposureJumpRatio = (float?)sec.Number("exposure_jump_ratio") ?? o.ExposureJumpRatio,
        };
        // The pairs StaticObjectDetector checks against each other (its own check stays): refused here, at the line,
        // rather than when the first camera's pass starts.
        if (read.AbsorbTime <= read.SettleTime)
            Refuse(sec, "absorb_time", "settle_time",
                $"absorb_time ({Seconds(read.AbsorbTime)}) must be longer than settle_time ({Seconds(read.SettleTime)}), far longer than any dwell it serves");
        if (read.MaxRegionFraction <= read.MinRegionFraction)
            Refuse(sec, "min_region_fraction", "max_region_fraction",
                $"min_region_fraction ({read.MinRegionFraction.ToString(CultureInfo.InvariantCulture)}) must be below max_region_fraction ({read.MaxRegionFraction.ToString(CultureInfo.InvariantCulture)})");
        return read;
    }

    /// <summary>Reports at the first of the two keys that is written (one of them is, or the defaults would clash).</summary>
    private static void Refuse(Section sec, string first, string second, string message)
    {
        var at = sec.Has(first) ? first : second;
        sec.Src.Error(sec.Value(at)!.Start, sec.Field(at), message);
    }

    private static string Seconds(TimeSpan t) => $"{t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s";
}
