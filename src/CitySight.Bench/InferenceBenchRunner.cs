using CitySight.Configuration;
using CitySight.Inference;
using Spectre.Console;

namespace CitySight.Bench;

/// <summary>
/// `citysight bench` once its arguments are parsed: resolves the model from the config, measures each batch size with a
/// progress display on stderr, prints the table on stdout, writes the optional JSON and PNG. Returns the exit code.
/// </summary>
public static class InferenceBenchRunner
{
    /// <summary>The goal the issue sets: pipeline frames/s at least this share of bare session.Run.</summary>
    public const double RatioGoal = 0.9;

    /// <exception cref="BenchException">An input the user can fix (also the model exceptions of <see cref="ModelManifest"/> and <see cref="ModelLocator"/>).</exception>
    public static async Task<int> RunAsync(InferenceBenchRequest r, CitySightConfig cfg, CancellationToken ct)
    {
        var manifest = ModelManifest.Load(cfg.Models.Manifest);
        var run = r.Model is { } named
            ? cfg.Models.Run.FirstOrDefault(d => d.Model == named) ?? new ModelRun { Model = named }
            : cfg.Models.Run[0];
        if (!manifest.Models.Any(m => m.Name == run.Model))
            throw new BenchException($"unknown model '{run.Model}': {manifest.Path} declares {string.Join(", ", manifest.Models.Select(m => m.Name))}");
        var spec = manifest.Get(run.Model);
        var modelPath = ModelLocator.Locate(spec, cfg.Models.SearchPaths);
        var options = run.Detector with
        {
            Provider = r.Provider ?? run.Detector.Provider,
            DeviceId = r.Device ?? run.Detector.DeviceId,
            Threads = r.Threads ?? run.Detector.Threads,
            Instances = r.Instances,
        };

        using var benchSource = await BenchSource.OpenAsync(r.Source, r.Batches.Max(), cfg.Ingest.MaxFrameWidth, cfg.Ingest.MaxFrameHeight, ct);
        var settings = new BenchSettings
        {
            Spec = spec,
            ModelPath = modelPath,
            Source = benchSource,
            Streams = r.Streams,
            Options = options,
            MaxWait = r.MaxWait,
            Frames = r.Frames,
            Rounds = r.Rounds,
            MaxFrameWidth = cfg.Ingest.MaxFrameWidth,
            MaxFrameHeight = cfg.Ingest.MaxFrameHeight,
        };

        var err = MakeConsole(System.Console.Error, System.Console.IsErrorRedirected);
        err.MarkupLine($"[grey]bench: {Markup.Escape(spec.Name)} on {Markup.Escape(benchSource.Display)} ({benchSource.Kind.ToString().ToLowerInvariant()}), " +
                       $"{r.Streams} stream(s), batch {string.Join(",", r.Batches)}, {r.Frames} frames each[/]");
        var runs = new List<BenchRun>();
        await err.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var display = new SpectreBenchProgress(ctx, r.Batches);
                foreach (var b in r.Batches)
                {
                    var measured = await InferenceBench.MeasureAsync(settings, b, display, ct);
                    display.Finished(measured);
                    runs.Add(measured);
                }
            });

        var provided = runs[0].Provider;
        var device = InferenceBenchTable.Device(provided, options.DeviceId);
        var cores = Environment.ProcessorCount;
        if (provided.FellBack)
            System.Console.Error.WriteLine($"warning: provider {BenchReport.ConfigName(provided.Requested)} was asked for, but {provided.FallbackReason}");

        var outConsole = MakeConsole(System.Console.Out, System.Console.IsOutputRedirected);
        outConsole.Write(InferenceBenchTable.Create(runs, spec.Name, device, benchSource, r.Streams, options.Threads, cores));
        var best = runs.MaxBy(x => x.PipelineFps)!;
        outConsole.MarkupLine($"best: batch {best.Batch} ({best.Sessions} session(s)): {best.PipelineFps:F1} frames/s, bare {best.BareFps:F1}, " +
                              $"ratio {InferenceBenchTable.Ratio(best)} (goal ≥ {RatioGoal:F1})");

        var records = runs.Select(x => BenchReport.Record(x, device, spec.Name, benchSource, r.Streams, options.Threads)).ToList();
        if (r.Json is { } jsonPath)
        {
            Write(jsonPath, () => BenchReport.WriteJson(jsonPath, records));
            System.Console.Error.WriteLine($"bench: JSON written to {jsonPath}");
        }
        if (r.Chart is { } chartPath)
        {
            Write(chartPath, () => BenchReport.WriteChart(chartPath, runs, spec.Name, device,
                Path.GetFileName(benchSource.Display.TrimEnd('/')), r.Streams));
            System.Console.Error.WriteLine($"bench: chart written to {chartPath}");
        }
        return 0;
    }

    private static void Write(string path, Action write)
    {
        try
        {
            write();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BenchException($"cannot write {path}: {ex.Message}");
        }
    }

    private static IAnsiConsole MakeConsole(TextWriter writer, bool redirected) => BenchConsole.Create(writer, redirected, 200);
}
