using System.CommandLine;
using System.Globalization;
using CitySight.Bench;

namespace CitySight.Cli.Bench;

/// <summary>
/// `citysight bench-ingest continuous|patrol`: the ingest benchmarks whose figures the README quotes. Parses the arguments;
/// <see cref="IngestBenchRunner"/> runs and reports.
/// </summary>
internal static class IngestBenchCommand
{
    public static Command Create()
    {
        var cmd = new Command("bench-ingest", "Benchmark ingest against the RTSP simulator: continuous keyframe-only streams vs bare ffmpeg, or a patrol of many cameras.");
        cmd.Add(Continuous());
        cmd.Add(Patrol());
        return cmd;
    }

    private static Option<string?> ClipOption() => new("--clip") { Description = "Real street clip scaled to 1080p for the simulated cameras (default: ../shared/assets/media/highway-traffic-640x360.mp4)" };
    private static Option<string?> JsonOption() => new("--json") { Description = "Also write the results as JSON to this file" };
    private static Option<int> MaxWidthOption() => new("--max-width") { Description = "Scale frames in the decoder to at most this width (0 = full 1080p)", DefaultValueFactory = _ => 1280 };

    private static Command Continuous()
    {
        var cameras = new Option<string>("--cameras") { Description = "Camera counts to try, comma-separated", DefaultValueFactory = _ => "4,8,16" };
        var duration = new Option<double>("--duration") { Description = "Seconds measured per count and per side", DefaultValueFactory = _ => 30 };
        var gop = new Option<double>("--gop") { Description = "GOP of the simulated cameras in seconds (30 fps source)", DefaultValueFactory = _ => 2 };
        var clip = ClipOption();
        var json = JsonOption();
        var maxWidth = MaxWidthOption();
        var cmd = new Command("continuous", "1080p H.264 cameras read keyframe-only by CitySight, then by as many bare `ffmpeg -skip_frame nokey` processes; CPU, memory and last-frame age.")
        { cameras, duration, gop, clip, json, maxWidth };
        cmd.SetAction(async (parse, ct) =>
        {
            if (CameraCounts(parse.GetValue(cameras)!) is not { } counts)
            {
                Console.Error.WriteLine($"bench-ingest: --cameras {parse.GetValue(cameras)}: expected camera counts of 1 or more, comma-separated (e.g. 4,8,16)");
                return 2;
            }
            return await IngestBenchRunner.ContinuousAsync(counts, TimeSpan.FromSeconds(parse.GetValue(duration)), TimeSpan.FromSeconds(parse.GetValue(gop)),
                parse.GetValue(maxWidth), parse.GetValue(clip), parse.GetValue(json), ct);
        });
        return cmd;
    }

    private static Command Patrol()
    {
        var cameras = new Option<int>("--cameras") { DefaultValueFactory = _ => 1000 };
        var concurrency = new Option<int>("--concurrency") { Description = "Visits in flight at once", DefaultValueFactory = _ => 8 };
        var interval = new Option<double>("--interval") { Description = "Wanted revisit interval in seconds", DefaultValueFactory = _ => 120 };
        var duration = new Option<double>("--duration") { Description = "Seconds to run (at least two cycles for a gap to show)", DefaultValueFactory = _ => 300 };
        var clip = ClipOption();
        var json = JsonOption();
        var maxWidth = MaxWidthOption();
        var cmd = new Command("patrol", "A patrol (轮巡) of many simulated 1080p cameras: cycle time, worst gap between two visits of one camera, CPU.")
        { cameras, concurrency, interval, duration, clip, json, maxWidth };
        cmd.SetAction((parse, ct) => IngestBenchRunner.PatrolAsync(parse.GetValue(cameras), parse.GetValue(concurrency),
            TimeSpan.FromSeconds(parse.GetValue(interval)), TimeSpan.FromSeconds(parse.GetValue(duration)), parse.GetValue(maxWidth),
            parse.GetValue(clip), parse.GetValue(json), ct));
        return cmd;
    }

    /// <summary>"4,8,16" as counts; null when any is not a whole number of 1 or more, or there is none.</summary>
    internal static List<int>? CameraCounts(string text)
    {
        var list = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1) return null;
            list.Add(n);
        }
        return list.Count > 0 ? list : null;
    }
}
