using Spectre.Console;

namespace CitySight.Bench;

/// <summary>Two bars per batch size: the pipeline's frames, then the bare run's share of its time.</summary>
internal sealed class SpectreBenchProgress : IBenchProgress
{
    private readonly Dictionary<int, (ProgressTask Pipeline, ProgressTask Bare)> _tasks = [];

    public SpectreBenchProgress(ProgressContext ctx, IReadOnlyList<int> batches)
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
        bare.Description = Markup.Escape($"batch {r.Batch}: bare {r.BareFps:F1} frames/s (ratio {InferenceBenchTable.Ratio(r)})");
        bare.Value = bare.MaxValue;
        bare.StopTask();
    }
}
