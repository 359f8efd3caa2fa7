using System.Globalization;
using CitySight.Domain;
using CitySight.Inference;
using Spectre.Console;

namespace CitySight.Bench;

/// <summary>The bench's table on stdout, and the device line its title and JSON name.</summary>
internal static class InferenceBenchTable
{
    public static Table Create(IReadOnlyList<BenchRun> runs, string model, string device, BenchSource source, int streams, int threads, int cores)
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
                r.Ratio >= InferenceBenchRunner.RatioGoal ? $"[green]{ratio}[/]" : $"[yellow]{ratio}[/]",
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

    public static string Ratio(BenchRun r) => double.IsNaN(r.Ratio) ? "-" : r.Ratio.ToString("F2", CultureInfo.InvariantCulture);

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
}
