using System.CommandLine;
using System.Text.Json;

namespace CitySight.Cli.Bench;

/// <summary>`citysight bench-ingest continuous|patrol`: the ingest benchmarks whose figures the README quotes.</summary>
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
            var (source, cache) = await PrepareAsync(parse.GetValue(clip), (int)Math.Round(parse.GetValue(gop) * 30), ct);
            var results = new List<IngestBench.ContinuousResult>();
            foreach (var n in parse.GetValue(cameras)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse))
            {
                var r = await IngestBench.ContinuousAsync(source, n, TimeSpan.FromSeconds(parse.GetValue(duration)), TimeSpan.FromSeconds(parse.GetValue(gop)),
                    parse.GetValue(maxWidth), cache, m => Console.Error.WriteLine($"bench: {m}"), ct);
                results.Add(r);
                Console.Error.WriteLine($"bench: {n} camera(s): CitySight {r.CitysightCpuPercent:F1} % CPU vs bare ffmpeg {r.BaselineCpuPercent:F1} % (x{r.Ratio:F2}), max frame age {r.MaxFrameAgeS:F1} s");
            }
            Console.WriteLine("cameras | CitySight CPU % (per cam) | bare ffmpeg CPU % (per cam) | ratio | simulator CPU % | max frame age s (limit) | sustained | frames/s | dropped | RSS MiB/cam (bare)");
            foreach (var r in results)
                Console.WriteLine($"{r.Cameras,7} | {r.CitysightCpuPercent,8:F1} ({r.CitysightCpuPerCameraPercent:F2}) | {r.BaselineCpuPercent,8:F1} ({r.BaselineCpuPerCameraPercent:F2}) | {r.Ratio:F2} | {r.SimulatorCpuPercent,6:F1} | {r.MaxFrameAgeS:F1} ({r.AgeLimitS:F0}) | {(r.Sustained ? "yes" : "no")} | {r.FramesPerSecond:F1} | {r.Dropped} | {r.CitysightRssMiBPerCamera:F1} ({r.BaselineRssMiBPerCamera:F1})");
            await WriteJson(parse.GetValue(json), results, ct);
            return 0;
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
        cmd.SetAction(async (parse, ct) =>
        {
            var (source, cache) = await PrepareAsync(parse.GetValue(clip), 60, ct);
            var r = await IngestBench.PatrolAsync(source, parse.GetValue(cameras), parse.GetValue(concurrency), TimeSpan.FromSeconds(parse.GetValue(interval)),
                TimeSpan.FromSeconds(parse.GetValue(duration)), parse.GetValue(maxWidth), cache, m => Console.Error.WriteLine($"bench: {m}"), ct);
            Console.WriteLine("cameras | concurrency | interval s | run s | visits | failures | visits/s | cycle s | worst gap s | median gap s | CitySight CPU % | simulator CPU % | visit p50/p95 ms");
            Console.WriteLine($"{r.Cameras} | {r.Concurrency} | {r.IntervalS:F0} | {r.DurationS:F0} | {r.Visits} | {r.Failures} | {r.VisitsPerSecond:F2} | {r.CycleTimeS:F0} | {r.WorstGapS:F0} | {r.MedianGapS:F0} | {r.CitysightCpuPercent:F1} | {r.SimulatorCpuPercent:F1} | {r.VisitP50Ms:F0}/{r.VisitP95Ms:F0}");
            await WriteJson(parse.GetValue(json), r, ct);
            return 0;
        });
        return cmd;
    }

    private static async Task<(string Source, string Cache)> PrepareAsync(string? clip, int gopFrames, CancellationToken ct)
    {
        clip ??= FindClip();
        var cache = Path.GetFullPath(Path.Combine("data", "bench-cache"));
        Console.Error.WriteLine($"bench: preparing the 1080p source from {Path.GetFileName(clip)} (cached in {cache})");
        return (await IngestBench.Source1080pAsync(clip, cache, gopFrames, ct), cache);
    }

    private static string FindClip()
    {
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
        {
            var c = Path.Combine(d.FullName, "shared", "assets", "media", "highway-traffic-640x360.mp4");
            if (File.Exists(c)) return c;
        }
        throw new FileNotFoundException("no ../shared/assets/media/highway-traffic-640x360.mp4 found; pass --clip FILE");
    }

    private static async Task WriteJson<T>(string? path, T value, CancellationToken ct)
    {
        if (path is null) return;
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(value, IngestBench.Json), ct);
        Console.Error.WriteLine($"bench: results written to {path}");
    }
}
