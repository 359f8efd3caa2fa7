using System.Collections.Concurrent;
using Prometheus;

namespace CitySight.Ingest;

/// <summary>
/// Prometheus metrics of the ingest stage (default registry). Labelled by camera id and group id: never by URL.
/// Per-camera children are looked up once per camera (or per connection), not per frame.
/// </summary>
public static class IngestMetrics
{
    public static readonly Counter FramesDecoded = Metrics.CreateCounter(
        "citysight_frames_decoded_total",
        "Frames decoded from a camera and handed on to the pipeline (after sampling).",
        new CounterConfiguration { LabelNames = ["camera", "group"] });

    public static readonly Counter Reconnects = Metrics.CreateCounter(
        "citysight_camera_reconnects_total",
        "Connection attempts to a camera after the first one.",
        new CounterConfiguration { LabelNames = ["camera", "group"] });

    public static readonly Gauge CameraUp = Metrics.CreateGauge(
        "citysight_camera_up",
        "1 while frames flow from the camera, else 0.",
        new GaugeConfiguration { LabelNames = ["camera", "group"] });

    public static readonly Gauge CameraStateGauge = Metrics.CreateGauge(
        "citysight_camera_state",
        "1 for the camera's current ingest state, 0 for the others (connecting, streaming, offline, stopped, stalled, disabled).",
        new GaugeConfiguration { LabelNames = ["camera", "group", "state"] });

    public static readonly Gauge LastFrameAge = Metrics.CreateGauge(
        "citysight_camera_last_frame_age_seconds",
        "Seconds since the camera's last frame arrived (since its ingest started, if none has yet); set when scraped.",
        new GaugeConfiguration { LabelNames = ["camera", "group"] });

    public static readonly Counter DecoderCpuSeconds = Metrics.CreateCounter(
        "citysight_decoder_cpu_seconds_total",
        "CPU seconds (user + system) used by the camera's ffmpeg decoder processes, sampled from /proc while they run.",
        new CounterConfiguration { LabelNames = ["camera", "group"] });

    /// <summary>
    /// Decoding happens in ffmpeg's process; what this process spends per frame is the pipe read (the BGR bytes) and its
    /// pairing with the frame's stderr line. Measured from the frame's announcement to its last byte.
    /// </summary>
    public static readonly Histogram FrameReadSeconds = Metrics.CreateHistogram(
        "citysight_ingest_frame_read_seconds",
        "Time to read one decoded frame from ffmpeg's pipe, from its announcement on stderr to its last byte.",
        new HistogramConfiguration
        {
            LabelNames = ["group"],
            Buckets = Histogram.ExponentialBuckets(0.0001, 2.5, 10), // 0.1 ms … ~380 ms
        });

    internal static readonly string[] StateLabels = Enum.GetNames<CameraState>().Select(n => n.ToLowerInvariant()).ToArray();

    // Running sources, for the age gauge (computed when scraped rather than written per frame).
    private static readonly ConcurrentDictionary<CameraSource, Gauge.Child> Running = new();

    static IngestMetrics()
    {
        Metrics.DefaultRegistry.AddBeforeCollectCallback(UpdateLastFrameAges);
    }

    internal static void Track(CameraSource source, string group) =>
        Running[source] = LastFrameAge.WithLabels(source.Camera.Id, group);

    internal static void Untrack(CameraSource source)
    {
        // A stopped camera has no last-frame age to speak of: drop the series rather than let it look fresh or stale.
        if (Running.TryRemove(source, out var child)) child.Remove();
    }

    internal static void UpdateLastFrameAges()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var (source, child) in Running)
        {
            if (source.LastFrameOrStart is { } t) child.Set(Math.Max(0, (now - t).TotalSeconds));
        }
    }
}
