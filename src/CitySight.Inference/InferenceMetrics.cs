using Prometheus;

namespace CitySight.Inference;

/// <summary>Prometheus metrics of the detectors, labelled by model name.</summary>
public static class InferenceMetrics
{
    public static readonly Counter FramesInferred = Metrics.CreateCounter(
        "citysight_frames_inferred_total",
        "Frames run through a detector.",
        new CounterConfiguration { LabelNames = ["model"] });

    /// <summary>Letterbox + model run + decode + NMS for one frame. Buckets 1 ms .. ~2 s, doubling.</summary>
    public static readonly Histogram InferenceSeconds = Metrics.CreateHistogram(
        "citysight_inference_seconds",
        "Time to detect on one frame: letterbox, model run, decode and NMS.",
        new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 12) });
}
