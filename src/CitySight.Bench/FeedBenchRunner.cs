using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace CitySight.Bench;

/// <summary>
/// `citysight bench-feed` once its arguments are parsed: runs <see cref="FeedBench"/> with a progress display on stderr,
/// prints the table and the summary on stdout, writes the optional JSON. Exit 1 when a committed case was lost.
/// </summary>
public static class FeedBenchRunner
{
    public static async Task<int> RunAsync(FeedBenchOptions o, string? jsonPath, CancellationToken ct)
    {
        if (o.IdleSubscribers > 0) return await RunLoadAsync(o, jsonPath, ct);
        var err = MakeConsole(Console.Error, Console.IsErrorRedirected);
        err.MarkupLine($"[grey]bench-feed: {o.Cases} cases per phase, {o.Consumers} consumer(s), ack every {o.AckEvery}, " +
                       $"evidence {o.EvidenceBytes / 1024} KiB (include_evidence {(o.IncludeEvidence ? "true" : "false")}), " +
                       $"rate {(o.Rate > 0 ? o.Rate.ToString("F0", CultureInfo.InvariantCulture) + "/s" : "as fast as the store commits")}" +
                       (o.SlowConsumer ? $", + a slow-consumer phase ({o.SlowDelay.TotalMilliseconds:F0} ms per event)" : "") +
                       $", {o.Rounds} round(s) of the live phases in alternating order[/]");
        FeedBenchResult? result = null;
        await err.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx => result = await FeedBench.RunAsync(o, new SpectreFeedProgress(ctx), ct));

        var r = result!;
        if (r.FileSystem.StartsWith("tmpfs", StringComparison.Ordinal))
            Console.Error.WriteLine($"warning: the stores are on {r.FileSystem}: fsync costs nothing there, so commit rates are far above a real disk's (use --data)");
        var output = MakeConsole(Console.Out, Console.IsOutputRedirected);
        output.Write(FeedBenchTable.Create(r));
        foreach (var line in FeedBenchTable.Summary(r)) output.WriteLine(line);

        if (jsonPath is not null) await WriteJsonAsync(jsonPath, JsonSerializer.Serialize(r, BenchReport.Json), ct);
        if (o.DataFolder is null && !o.Keep)
        {
            Console.Error.WriteLine($"bench-feed: removing the temp stores in {r.DataFolder}");
            FeedBench.RemoveStores(o, r.DataFolder);
        }
        var lost = r.Phases.Sum(p => p.Lost);
        if (lost > 0)
        {
            Console.Error.WriteLine($"bench-feed: {lost} case(s) committed were never received by some consumer");
            return 1;
        }
        return 0;
    }

    /// <summary>`bench-feed --idle-subscribers N`: commit latency quiet, then loaded (issue 14). Exit 1 when an event was lost or repeated.</summary>
    private static async Task<int> RunLoadAsync(FeedBenchOptions o, string? jsonPath, CancellationToken ct)
    {
        var err = MakeConsole(Console.Error, Console.IsErrorRedirected);
        var rate = o.Rate > 0 ? o.Rate : FeedBench.DefaultLoadRate;
        err.MarkupLine($"[grey]bench-feed: {o.Cases} cases at {rate.ToString("F0", CultureInfo.InvariantCulture)}/s with no subscriber, then the same with " +
                       $"{o.IdleSubscribers} idle gRPC subscribers" + (o.AckFlood ? $" and an ack flood from {o.AckFloodClients} clients" : "") + "[/]");
        FeedLoadResult? result = null;
        await err.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx => result = await FeedBench.RunLoadAsync(o, new SpectreFeedProgress(ctx), ct));
        var r = result!;
        if (r.FileSystem.StartsWith("tmpfs", StringComparison.Ordinal))
            Console.Error.WriteLine($"warning: the store is on {r.FileSystem}: fsync costs nothing there (use --data)");
        foreach (var line in FeedBenchLoadReport.Lines(r)) Console.Out.WriteLine(line);
        if (jsonPath is not null) await WriteJsonAsync(jsonPath, JsonSerializer.Serialize(r, BenchReport.Json), ct);
        if (o.DataFolder is null && !o.Keep) FeedBench.RemoveStores(o, r.DataFolder);
        if (r.Lost > 0 || r.Duplicates > 0)
        {
            Console.Error.WriteLine($"bench-feed: {r.Lost} event(s) lost and {r.Duplicates} repeated across the idle subscribers");
            return 1;
        }
        return 0;
    }

    /// <summary>The child process of `bench-feed --idle-subscribers`: idle subscribers driven over stdin/stdout (see FeedBench).</summary>
    public static async Task<int> RunIdleClientAsync(string address, int count, long after, CancellationToken ct)
    {
        await FeedBench.RunIdleClientAsync(address, count, after, Console.In, Console.Out, ct);
        return 0;
    }

    private static async Task WriteJsonAsync(string jsonPath, string json, CancellationToken ct)
    {
        try
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(jsonPath));
            if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
            await File.WriteAllTextAsync(jsonPath, json + "\n", ct);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BenchException($"cannot write {jsonPath}: {ex.Message}");
        }
        Console.Error.WriteLine($"bench-feed: JSON written to {jsonPath}");
    }

    private static IAnsiConsole MakeConsole(TextWriter writer, bool redirected) => BenchConsole.Create(writer, redirected, 220);
}
