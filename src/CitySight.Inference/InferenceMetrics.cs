using Prometheus;

namespace CitySight.Inference;

/// <summary>Prometheus metrics of the detectors, labelled by model name.</summary>
public static class InferenceMetrics
{
    public static readonly Counter FramesInferred = Metrics.CreateCounter(
        "citysight_frames_inferred_total",
        "Frames run through a detector.",
        new CounterConfiguration { LabelNames = ["model"] });

    /// <summary>Letterbox + model run + decode + NMS for one run (a batch). Buckets 1 ms .. ~2 s, doubling.</summary>
    public static readonly Histogram InferenceSeconds = Metrics.CreateHistogram(
        "citysight_inference_seconds",
        "Time of one detector run on a batch of frames: letterbox, model run, decode and NMS.",
        new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 12) });

    public static readonly Histogram BatchSize = Metrics.CreateHistogram(
        "citysight_inference_batch_frames",
        "Frames in one detector run.",
        new HistogramConfiguration { LabelNames = ["model"], Buckets = [1, 2, 4, 8, 16, 32, 64] });

    /// <summary>1 for the provider each model really runs on (after any fallback to CPU).</summary>
    public static readonly Gauge Provider = Metrics.CreateGauge(
        "citysight_inference_provider",
        "Execution provider a model runs on: requested, and running after any fallback.",
        new GaugeConfiguration { LabelNames = ["model", "requested", "running"] });
}
