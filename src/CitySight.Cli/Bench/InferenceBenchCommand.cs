using System.CommandLine;
using System.Globalization;
using CitySight.Configuration;
using CitySight.Domain;
using CitySight.Inference;
using Spectre.Console;

namespace CitySight.Cli.Bench;

/// <summary>
/// `citysight bench`: frames/s of the real detect stage against bare session.Run, per batch size, on the chosen provider.
/// Table on stdout, progress on stderr, optional JSON and PNG.
/// </summary>
internal static class InferenceBenchCommand
{
    /// <summary>The goal the issue sets: pipeline frames/s at least this share of bare session.Run.</summary>
    public const double RatioGoal = 0.9;

    public static Command Create()
    {
        var source = new Option<string>("--source")
        {
            Description = "A video file (looped, decoded as fast as the pipeline takes frames), a folder of *.jpg/*.png images (or one image), " +
                          "or an RTSP URL (\"{i}\" in it becomes the stream number 0..N-1)",
            Required = true,
        };
        var streams = new Option<int>("--streams") { Description = "Streams (cameras) fed at once", DefaultValueFactory = _ => 4 };
        var batch = new Option<string>("--batch") { Description = "Batch sizes to measure, e.g. 1 or 1,2,4,8 (models.run max_batch)", DefaultValueFactory = _ => "1" };
        var provider = new Option<string?>("--provider") { Description = "cpu, cuda, tensorrt or openvino (default: the model's models.run provider, else cpu)" };
        var device = new Option<int?>("--device") { Description = "GPU index for cuda/tensorrt; openvino: 0 = CPU, N = GPU.(N-1) (default: models.run device_id)" };
        var model = new Option<string?>("--model") { Description = "Model name in the manifest (default: the first configured model)" };
        var threads = new Option<int?>("--threads") { Description = "Intra-op threads per session; 0 = ONNX Runtime chooses (default: models.run threads, normally 0)" };
        var instances = new Option<int>("--instances") { Description = "Sessions side by side (a fixed-batch model at --batch B > 1 runs B sessions anyway)", DefaultValueFactory = _ => 1 };
        var maxWait = new Option<string?>("--max-wait") { Description = "How long a batch's first frame may wait for more, e.g. 5ms (default: 0 at batch 1, 5ms above)" };
        var frames = new Option<int>("--frames") { Description = "Frames measured per batch size, after a warm-up of max(8, 2 x batch x sessions) frames and at least 2 s", DefaultValueFactory = _ => 200 };
        var rounds = new Option<int?>("--rounds")
        {
            Description = "Pipeline and bare session.Run alternate this many times per batch size, so that load from other processes " +
                          "hits both alike (default: one round per 50 frames, 1 to 4)",
        };
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file" };
        var chart = new Option<string?>("--chart") { Description = "Also draw a PNG: frames/s against batch size and the latency distribution, side by side" };
        var config = ConfigPaths.ConfigOption();
        var cmd = new Command("bench",
            "Frames/s per device: the real pipeline (N streams → mailboxes → detect stage) against bare session.Run with the same " +
            "sessions, batch and threads; latency p50/p95/p99, mean batch fill, CPU use.")
        {
            source, streams, batch, provider, device, model, threads, instances, maxWait, frames, rounds, json, chart, config,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            try
            {
                return await RunAsync(new Args(
                    parse.GetValue(source)!, parse.GetValue(streams), parse.GetValue(batch)!, parse.GetValue(provider), parse.GetValue(device),
                    parse.GetValue(model), parse.GetValue(threads), parse.GetValue(instances), parse.GetValue(maxWait), parse.GetValue(frames),
                    parse.GetValue(rounds), parse.GetValue(json), parse.GetValue(chart), parse.GetValue(config)), ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Console.Error.WriteLine("bench: cancelled");
                return 130;
            }
            catch (Exception ex) when (Expected(ex))
            {
                Console.Error.WriteLine($"bench: {ex.Message}");
                return 2;
            }
            catch (Exception ex)
            {
                Console.Error.WriteLine($"bench: failed: {ex.GetType().Name}: {ex.Message}");
                return 1;
            }
        });
        return cmd;
    }

    private sealed record Args(string Source, int Streams, string Batch, string? Provider, int? Device, string? Model, int? Threads,
        int Instances, string? MaxWait, int Frames, int? Rounds, string? Json, string? Chart, string? Config);

    /// <summary>Errors the user can fix from the command line or the config: one line, exit code 2.</summary>
    private static bool Expected(Exception ex) => ex is BenchException or ModelMismatchException or ModelNotFoundException
        or ModelHashMismatchException or ManifestException or FileNotFoundException or KeyNotFoundException;

    private static async Task<int> RunAsync(Args a, CancellationToken ct)
    {
        var batches = ParseBatches(a.Batch);
        if (a.Streams < 1) throw new BenchException($"--streams {a.Streams}: at least 1");
        if (a.Frames < 1) throw new BenchException($"--frames {a.Frames}: at least 1");
        if (a.Rounds is < 1) throw new BenchException($"--rounds {a.Rounds}: at least 1");
        if (a.Instances < 1) throw new BenchException($"--instances {a.Instances}: at least 1");
        if (a.Threads is < 0) throw new BenchException($"--threads {a.Threads}: 0 (ONNX Runtime chooses) or more");
        if (a.Device is < 0) throw new BenchException($"--device {a.Device}: 0 or more");
        TimeSpan? maxWait = null;
        if (a.MaxWait is { } mw)
            maxWait = Durations.TryParse(mw, out var w) ? w : throw new BenchException($"--max-wait {mw}: use {Durations.AcceptedForms}");
        ExecutionProvider? provider = a.Provider is null ? null : ParseProvider(a.Provider);

        var cfg = ConfigPaths.LoadOrReport(ConfigPaths.Resolve(a.Config));
        if (cfg is null) return 2;
        var manifest = ModelManifest.Load(cfg.Models.Manifest);
        var run = a.Model is { } named
            ? cfg.Models.Run.FirstOrDefault(r => r.Model == named) ?? new DetectorSettings { Model = named }
            : cfg.Models.Run[0];
        if (!manifest.Models.Any(m => m.Name == run.Model))
            throw new BenchException($"unknown model '{run.Model}': {manifest.Path} declares {string.Join(", ", manifest.Models.Select(m => m.Name))}");
        var spec = manifest.Get(run.Model);
        var modelPath = ModelLocator.Locate(spec, cfg.Models.SearchPaths);
        var options = CitySight.Service.CitySightHost.OptionsOf(run) with
        {
            Provider = provider ?? run.Provider,
            DeviceId = a.Device ?? run.DeviceId,
            Threads = a.Threads ?? run.Threads,
            Instances = a.Instances,
        };

        using var benchSource = await BenchSource.OpenAsync(a.Source, batches.Max(), cfg.Ingest.MaxFrameWidth, cfg.Ingest.MaxFrameHeight, ct);
        var settings = new BenchSettings
        {
            Spec = spec,
            ModelPath = modelPath,
            Source = benchSource,
            Streams = a.Streams,
            Options = options,
            MaxWait = maxWait,
            Frames = a.Frames,
            Rounds = a.Rounds,
            MaxFrameWidth = cfg.Ingest.MaxFrameWidth,
            MaxFrameHeight = cfg.Ingest.MaxFrameHeight,
        };

        var err = MakeConsole(System.Console.Error, System.Console.IsErrorRedirected);
        err.MarkupLine($"[grey]bench: {Markup.Escape(spec.Name)} on {Markup.Escape(benchSource.Display)} ({benchSource.Kind.ToString().ToLowerInvariant()}), " +
                       $"{a.Streams} stream(s), batch {string.Join(",", batches)}, {a.Frames} frames each[/]");
        var runs = new List<BenchRun>();
        await err.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var display = new SpectreProgress(ctx, batches);
                foreach (var b in batches)
                {
                    var r = await InferenceBench.MeasureAsync(settings, b, display, ct);
                    display.Finished(r);
                    runs.Add(r);
                }
            });

        var provided = runs[0].Provider;
        var device = Device(provided, options.DeviceId);
        var cores = Environment.ProcessorCount;
        if (provided.FellBack)
            System.Console.Error.WriteLine($"warning: provider {BenchReport.ConfigName(provided.Requested)} was asked for, but {provided.FallbackReason}");

        var outConsole = MakeConsole(System.Console.Out, System.Console.IsOutputRedirected);
        outConsole.Write(Table(runs, spec.Name, device, benchSource, a.Streams, options.Threads, cores));
        var best = runs.MaxBy(r => r.PipelineFps)!;
        outConsole.MarkupLine($"best: batch {best.Batch} ({best.Sessions} session(s)): {best.PipelineFps:F1} frames/s, bare {best.BareFps:F1}, " +
                              $"ratio {Ratio(best)} (goal ≥ {RatioGoal:F1})");

        var records = runs.Select(r => BenchReport.Record(r, device, spec.Name, benchSource, a.Streams, options.Threads)).ToList();
        if (a.Json is { } jsonPath)
        {
            Write(jsonPath, () => BenchReport.WriteJson(jsonPath, records));
            System.Console.Error.WriteLine($"bench: JSON written to {jsonPath}");
        }
        if (a.Chart is { } chartPath)
        {
            Write(chartPath, () => BenchReport.WriteChart(chartPath, runs, spec.Name, device,
                Path.GetFileName(benchSource.Display.TrimEnd('/')), a.Streams));
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

    private static Table Table(IReadOnlyList<BenchRun> runs, string model, string device, BenchSource source, int streams, int threads, int cores)
    {
        var p = runs[0].Provider;
        var table = new Table { Border = TableBorder.Rounded };
        table.Title = new TableTitle(Markup.Escape($"{model} · {device} · {p.OrtName}") +
            (p.FellBack ? $" [yellow]({Markup.Escape(BenchReport.ConfigName(p.Requested))} requested, fell back)[/]" : ""));
        // Two-line headers keep the table within a 100-column terminal.
        foreach (var header in new[] { "batch", "sessions", "frames/s", "bare\nframes/s", "ratio", "p50\nms", "p95\nms", "p99\nms", "mean\nfill", "CPU\n%" })
            table.AddColumn(new TableColumn(header).RightAligned());
        foreach (var r in runs)
        {
            var ratio = Ratio(r);
            table.AddRow(
                r.Batch.ToString(CultureInfo.InvariantCulture),
                r.DynamicBatch || r.Batch == 1 ? r.Sessions.ToString(CultureInfo.InvariantCulture) : $"{r.Sessions}×1",
                r.PipelineFps.ToString("F1", CultureInfo.InvariantCulture),
                r.BareFps.ToString("F1", CultureInfo.InvariantCulture),
                r.Ratio >= RatioGoal ? $"[green]{ratio}[/]" : $"[yellow]{ratio}[/]",
                r.Percentile(0.50).ToString("F1", CultureInfo.InvariantCulture),
                r.Percentile(0.95).ToString("F1", CultureInfo.InvariantCulture),
                r.Percentile(0.99).ToString("F1", CultureInfo.InvariantCulture),
                double.IsNaN(r.MeanBatchFill) ? "-" : r.MeanBatchFill.ToString("F2", CultureInfo.InvariantCulture),
                r.CpuPercent.ToString("F0", CultureInfo.InvariantCulture));
        }
        var caption = $"source {source.Display} ({source.Kind.ToString().ToLowerInvariant()}), {streams} stream(s), " +
                      $"threads {(threads == 0 ? "auto" : threads.ToString(CultureInfo.InvariantCulture))}, {runs[0].Frames} frames per row, " +
                      $"pipeline and bare alternating in {runs[0].Rounds} round(s); " +
                      $"latency = hand-over to detections back; CPU % of one core ({cores} cores = {cores * 100} %), this process + its ffmpeg decoders";
        if (runs.Any(r => !r.DynamicBatch && r.Batch > 1))
            caption += $"; N×1: {model} has a fixed batch of 1, so batch B runs as B sessions of 1 frame in parallel";
        var lines = Markup.Escape(caption);
        if (p.FellBack)
            lines += $"\n[yellow]provider {Markup.Escape(BenchReport.ConfigName(p.Requested))} requested, running {Markup.Escape(p.OrtName)}: " +
                     $"{Markup.Escape(p.FallbackReason!)}[/]";
        table.Caption = new TableTitle(lines);
        return table;
    }

    private static string Ratio(BenchRun r) => double.IsNaN(r.Ratio) ? "-" : r.Ratio.ToString("F2", CultureInfo.InvariantCulture);

    private static List<int> ParseBatches(string text)
    {
        var list = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var b) || b < 1 || b > 1024)
                throw new BenchException($"--batch {text}: expected batch sizes from 1 to 1024, comma-separated (e.g. 1,2,4,8)");
            if (!list.Contains(b)) list.Add(b);
        }
        if (list.Count == 0) throw new BenchException($"--batch '{text}': expected batch sizes, comma-separated (e.g. 1,2,4,8)");
        return list;
    }

    private static ExecutionProvider ParseProvider(string text) => text.Trim().ToLowerInvariant() switch
    {
        "cpu" => ExecutionProvider.Cpu,
        "cuda" => ExecutionProvider.Cuda,
        "tensorrt" or "trt" => ExecutionProvider.TensorRt,
        "openvino" => ExecutionProvider.OpenVino,
        _ => throw new BenchException($"--provider {text}: expected cpu, cuda, tensorrt or openvino"),
    };

    /// <summary>"CPU: model name, N cores" on the CPU; else the provider and its device (with the GPU's name when nvidia-smi tells it).</summary>
    public static string Device(ProviderChoice p, int deviceId) => p.Running switch
    {
        ExecutionProvider.Cpu => $"CPU: {CpuModel()}, {Environment.ProcessorCount} cores",
        ExecutionProvider.OpenVino when deviceId == 0 => $"OpenVINO CPU: {CpuModel()}, {Environment.ProcessorCount} cores",
        ExecutionProvider.OpenVino => $"OpenVINO GPU.{deviceId - 1}",
        _ => $"{p.OrtName} device {deviceId}" + (NvidiaName(deviceId) is { } name ? $": {name}" : ""),
    };

    private static string CpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is var c and > 0)
                    return line[(c + 1)..].Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static string? NvidiaName(int deviceId)
    {
        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo("nvidia-smi") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { "--query-gpu=name", "--format=csv,noheader", "-i", deviceId.ToString(CultureInfo.InvariantCulture) })
                psi.ArgumentList.Add(arg);
            using var p = System.Diagnostics.Process.Start(psi)!;
            var name = p.StandardOutput.ReadToEnd().Trim();
            if (!p.WaitForExit(5000)) p.Kill();
            return p.ExitCode == 0 && name.Length > 0 ? name : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Two bars per batch size: the pipeline's frames, then the bare run's share of its time.</summary>
    private sealed class SpectreProgress : IBenchProgress
    {
        private readonly Dictionary<int, (ProgressTask Pipeline, ProgressTask Bare)> _tasks = [];

        public SpectreProgress(ProgressContext ctx, IReadOnlyList<int> batches)
        {
            foreach (var b in batches)
                _tasks[b] = (ctx.AddTask($"batch {b}: pipeline", autoStart: false, maxValue: 1),
                             ctx.AddTask($"batch {b}: bare session.Run", autoStart: false, maxValue: 1));
        }

        public void Phase(int batch, string what)
        {
            var (pipeline, bare) = _tasks[batch];
            if (what.StartsWith("bare", StringComparison.Ordinal))
            {
                bare.Description = Markup.Escape($"batch {batch}: {what}");
                bare.StartTask();
                return;
            }
            pipeline.Description = Markup.Escape($"batch {batch}: pipeline, {what}");
            pipeline.StartTask();
        }

        public void Pipeline(int batch, long done, long total)
        {
            var t = _tasks[batch].Pipeline;
            t.MaxValue = total;
            t.Value = done;
        }

        public void Bare(int batch, double fraction) => _tasks[batch].Bare.Value = Math.Clamp(fraction, 0, 1);

        public void Finished(BenchRun r)
        {
            var (pipeline, bare) = _tasks[r.Batch];
            pipeline.Description = Markup.Escape($"batch {r.Batch}: pipeline {r.PipelineFps:F1} frames/s");
            pipeline.Value = pipeline.MaxValue;
            pipeline.StopTask();
            bare.Description = Markup.Escape($"batch {r.Batch}: bare {r.BareFps:F1} frames/s (ratio {Ratio(r)})");
            bare.Value = bare.MaxValue;
            bare.StopTask();
        }
    }
}
