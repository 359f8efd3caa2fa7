using CitySight.Inference;

namespace CitySight.Bench;

/// <summary>The figures of one batch size.</summary>
internal sealed record BenchRun
{
    public required int Batch { get; init; }
    public required int Sessions { get; init; }
    public required int BatchCapacity { get; init; }
    public required bool DynamicBatch { get; init; }
    public required ProviderChoice Provider { get; init; }
    public required double MaxWaitMs { get; init; }
    public required int WarmupFrames { get; init; }
    public required int Rounds { get; init; }
    public required int Frames { get; init; }
    public required double PipelineSeconds { get; init; }
    public required double PipelineFps { get; init; }

    /// <summary>Latency of each measured frame (hand-over to the detectors until its detections are back), sorted, ms.</summary>
    public required double[] LatenciesMs { get; init; }

    public required double MeanBatchFill { get; init; }

    /// <summary>CPU used while the pipeline was measured, in % of one core: this process and its ffmpeg decoders.</summary>
    public required double CpuPercent { get; init; }

    public required long BareImages { get; init; }
    public required double BareSeconds { get; init; }
    public required double BareFps { get; init; }
    public required double BareCpuPercent { get; init; }

    public double Ratio => BareFps > 0 ? PipelineFps / BareFps : double.NaN;

    public double Percentile(double q) => InferenceBench.Percentile(LatenciesMs, q);
}
