using System.Text.Json;
using CitySight.Domain;
using ScottPlot;
using SkiaSharp;

namespace CitySight.Bench;

/// <summary>Latency percentiles of one run, ms, from hand-over to the detectors until the frame's detections are back.</summary>
internal sealed record LatencyMs(double P50, double P95, double P99, double Mean, double Max);

/// <summary>One batch size as written to the JSON report (snake_case names).</summary>
internal sealed record BenchRecord(
    string Device,
    string Provider,
    string ProviderRequested,
    string? FallbackReason,
    string Model,
    string Source,
    string SourceKind,
    int Streams,
    int Threads,
    int Batch,
    int Sessions,
    int BatchCapacity,
    bool DynamicBatch,
    double MaxWaitMs,
    double PipelineFps,
    double BareFps,
    double Ratio,
    LatencyMs LatencyMs,
    double MeanBatchFill,
    double CpuPercent,
    double BareCpuPercent,
    int CpuCores,
    int Frames,
    int WarmupFrames,
    int Rounds,
    double PipelineSeconds,
    long BareImages,
    double BareSeconds);

/// <summary>The bench's JSON and PNG outputs.</summary>
internal static class BenchReport
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The name the config uses for a provider: cpu, cuda, tensorrt, openvino.</summary>
    public static string ConfigName(ExecutionProvider p) => p.ToString().ToLowerInvariant();

    public static BenchRecord Record(BenchRun run, string device, string model, BenchSource source, int streams, int threads)
    {
        var pipeline = Math.Round(run.PipelineFps, 2);
        var bare = Math.Round(run.BareFps, 2);
        var l = run.LatenciesMs;
        return new BenchRecord(
            device, run.Provider.OrtName, ConfigName(run.Provider.Requested), run.Provider.FallbackReason, model,
            source.Display, source.Kind.ToString().ToLowerInvariant(), streams, threads, run.Batch, run.Sessions, run.BatchCapacity,
            run.DynamicBatch, run.MaxWaitMs, pipeline, bare, bare > 0 ? Math.Round(pipeline / bare, 4) : double.NaN,
            new LatencyMs(R3(run.Percentile(0.50)), R3(run.Percentile(0.95)), R3(run.Percentile(0.99)),
                R3(l.Length > 0 ? l.Average() : double.NaN), R3(l.Length > 0 ? l[^1] : double.NaN)),
            Math.Round(run.MeanBatchFill, 4), Math.Round(run.CpuPercent, 1), Math.Round(run.BareCpuPercent, 1), Environment.ProcessorCount,
            run.Frames, run.WarmupFrames, run.Rounds, Math.Round(run.PipelineSeconds, 4), run.BareImages, Math.Round(run.BareSeconds, 4));
    }

    private static double R3(double v) => Math.Round(v, 3);

    /// <summary>The run with the best pipeline frames/s at the top level, every run under "runs".</summary>
    public static string ToJson(IReadOnlyList<BenchRecord> records)
    {
        var best = records.MaxBy(r => r.PipelineFps)!;
        var root = JsonSerializer.SerializeToNode(best, Json)!.AsObject();
        root["runs"] = JsonSerializer.SerializeToNode(records, Json);
        return root.ToJsonString(Json);
    }

    public static void WriteJson(string path, IReadOnlyList<BenchRecord> records)
    {
        CreateFolderOf(path);
        File.WriteAllText(path, ToJson(records) + "\n");
    }

    /// <summary>
    /// One PNG, two panels side by side: frames/s against batch size (pipeline and bare session.Run), and the latency
    /// distribution per batch size (box p25–p75, line p50, whiskers p5–p99, dot p95, diamond p99).
    /// </summary>
    public static void WriteChart(string path, IReadOnlyList<BenchRun> runs, string model, string device, string source, int streams)
    {
        const int panelWidth = 720, height = 520;
        CreateFolderOf(path);

        using var fps = new Plot();
        double[] xs = runs.Select(r => (double)r.Batch).ToArray();
        var pipe = fps.Add.Scatter(xs, runs.Select(r => r.PipelineFps).ToArray());
        pipe.LegendText = "pipeline (mailboxes → detect stage)";
        pipe.MarkerSize = 9;
        pipe.LineWidth = 2;
        var bare = fps.Add.Scatter(xs, runs.Select(r => r.BareFps).ToArray());
        bare.LegendText = "bare session.Run";
        bare.MarkerSize = 9;
        bare.LineWidth = 2;
        bare.LinePattern = LinePattern.Dashed;
        fps.Axes.Bottom.SetTicks(xs, runs.Select(TickLabel).ToArray());
        fps.Title($"frames/s against batch size: {model}");
        fps.XLabel(runs.All(r => r.DynamicBatch || r.Batch == 1)
            ? "batch size (frames per run)"
            : "batch size (N×1: N sessions of 1 frame in parallel, the model's batch is fixed)");
        fps.YLabel("frames/s");
        var top = runs.Max(r => Math.Max(r.PipelineFps, r.BareFps));
        fps.Axes.SetLimitsY(0, top * 1.2);
        fps.Axes.SetLimitsX(xs.Min() - 0.5, xs.Max() + 0.5);
        fps.ShowLegend(Alignment.LowerRight);

        using var lat = new Plot();
        var positions = new double[runs.Count];
        for (var i = 0; i < runs.Count; i++)
        {
            var r = runs[i];
            positions[i] = i;
            var box = lat.Add.Box(new ScottPlot.Box
            {
                Position = i,
                BoxMin = r.Percentile(0.25),
                BoxMax = r.Percentile(0.75),
                BoxMiddle = r.Percentile(0.50),
                WhiskerMin = r.Percentile(0.05),
                WhiskerMax = r.Percentile(0.99),
            });
            _ = box;
        }
        var p95 = lat.Add.Markers(positions, runs.Select(r => r.Percentile(0.95)).ToArray(), MarkerShape.FilledCircle, 7, Colors.Black);
        p95.LegendText = "p95";
        var p99 = lat.Add.Markers(positions, runs.Select(r => r.Percentile(0.99)).ToArray(), MarkerShape.FilledDiamond, 9, Colors.DarkRed);
        p99.LegendText = "p99";
        lat.Axes.Bottom.SetTicks(positions, runs.Select(TickLabel).ToArray());
        lat.Title("latency: hand-over to detections back");
        lat.XLabel("batch size (box p25–p75, line p50, whiskers p5–p99)");
        lat.YLabel("ms");
        lat.Axes.SetLimitsX(-0.6, runs.Count - 0.4);
        lat.Axes.SetLimitsY(0, runs.Max(r => r.Percentile(0.99)) * 1.15);
        lat.ShowLegend(Alignment.UpperLeft);

        using var surface = SKSurface.Create(new SKImageInfo(panelWidth * 2, height + 30));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        Draw(canvas, fps, new PixelRect(0, panelWidth, height + 30, 30));
        Draw(canvas, lat, new PixelRect(panelWidth, 2 * panelWidth, height + 30, 30));
        using (var font = new SKFont(ScottPlot.Fonts.GetTypeface(ScottPlot.Fonts.Default, false, false), 15))
        using (var ink = new SKPaint { Color = SKColors.DimGray, IsAntialias = true })
            canvas.DrawText($"citysight bench · {device} · {runs[0].Provider.OrtName}" +
                (runs[0].Provider.FellBack ? $" ({ConfigName(runs[0].Provider.Requested)} requested, fell back)" : "") +
                $" · {streams} stream(s) of {source} · {runs[0].Frames} frames per batch size",
                10, 20, font, ink);
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        png.SaveTo(file);
    }

    private static string TickLabel(BenchRun r) => r.DynamicBatch || r.Batch == 1 ? $"{r.Batch}" : $"{r.Batch} ({r.Sessions}×1)";

    private static void Draw(SKCanvas canvas, Plot plot, PixelRect rect)
    {
        canvas.Save();
        // A plot fills its figure background over the whole canvas: keep it to its panel.
        canvas.ClipRect(new SKRect(rect.Left, rect.Top, rect.Right, rect.Bottom));
        plot.Render(canvas, rect);
        canvas.Restore();
    }

    private static void CreateFolderOf(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
    }
}
