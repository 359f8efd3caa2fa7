using System.Text.Json;

namespace CitySight.Bench;

/// <summary>
/// `citysight bench-ingest continuous|patrol` once their arguments are parsed: prepares the 1080p source, runs
/// <see cref="IngestBench"/>, prints the table the README quotes on stdout (progress on stderr), writes the optional JSON.
/// </summary>
public static class IngestBenchRunner
{
    public static async Task<int> ContinuousAsync(IReadOnlyList<int> cameraCounts, TimeSpan duration, TimeSpan gop, int maxWidth, string? clip,
        string? json, CancellationToken ct)
    {
        var (source, cache) = await PrepareAsync(clip, (int)Math.Round(gop.TotalSeconds * 30), ct);
        var results = new List<IngestBench.ContinuousResult>();
        foreach (var n in cameraCounts)
        {
            var r = await IngestBench.ContinuousAsync(source, n, duration, gop, maxWidth, cache, m => Console.Error.WriteLine($"bench: {m}"), ct);
            results.Add(r);
            Console.Error.WriteLine($"bench: {n} camera(s): CitySight {r.CitysightCpuPercent:F1} % CPU vs bare ffmpeg {r.BaselineCpuPercent:F1} % (x{r.Ratio:F2}), max frame age {r.MaxFrameAgeS:F1} s");
        }
        Console.WriteLine("cameras | CitySight CPU % (per cam) | bare ffmpeg CPU % (per cam) | ratio | simulator CPU % | max frame age s (limit) | sustained | frames/s | dropped | RSS MiB/cam (bare)");
        foreach (var r in results)
            Console.WriteLine($"{r.Cameras,7} | {r.CitysightCpuPercent,8:F1} ({r.CitysightCpuPerCameraPercent:F2}) | {r.BaselineCpuPercent,8:F1} ({r.BaselineCpuPerCameraPercent:F2}) | {r.Ratio:F2} | {r.SimulatorCpuPercent,6:F1} | {r.MaxFrameAgeS:F1} ({r.AgeLimitS:F0}) | {(r.Sustained ? "yes" : "no")} | {r.FramesPerSecond:F1} | {r.Dropped} | {r.CitysightRssMiBPerCamera:F1} ({r.BaselineRssMiBPerCamera:F1})");
        await WriteJson(json, results, ct);
        return 0;
    }

    public static async Task<int> PatrolAsync(int cameras, int concurrency, TimeSpan interval, TimeSpan duration, int maxWidth, string? clip,
        string? json, CancellationToken ct)
    {
        var (source, cache) = await PrepareAsync(clip, 60, ct);
        var r = await IngestBench.PatrolAsync(source, cameras, concurrency, interval, duration, maxWidth, cache, m => Console.Error.WriteLine($"bench: {m}"), ct);
        Console.WriteLine("cameras | concurrency | interval s | run s | visits | failures | visits/s | cycle s | worst gap s | median gap s | CitySight CPU % | simulator CPU % | visit p50/p95 ms");
        Console.WriteLine($"{r.Cameras} | {r.Concurrency} | {r.IntervalS:F0} | {r.DurationS:F0} | {r.Visits} | {r.Failures} | {r.VisitsPerSecond:F2} | {r.CycleTimeS:F0} | {r.WorstGapS:F0} | {r.MedianGapS:F0} | {r.CitysightCpuPercent:F1} | {r.SimulatorCpuPercent:F1} | {r.VisitP50Ms:F0}/{r.VisitP95Ms:F0}");
        await WriteJson(json, r, ct);
        return 0;
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
