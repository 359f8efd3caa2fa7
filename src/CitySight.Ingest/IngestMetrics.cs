using Prometheus;

namespace CitySight.Ingest;

/// <summary>Prometheus metrics of the ingest stage (default registry). Labelled by camera id only: never by URL.</summary>
public static class IngestMetrics
{
    public static readonly Counter FramesDecoded = Metrics.CreateCounter(
        "citysight_frames_decoded_total",
        "Frames decoded from a camera and handed on to the pipeline (after sampling).",
        new CounterConfiguration { LabelNames = ["camera"] });

    public static readonly Counter Reconnects = Metrics.CreateCounter(
        "citysight_camera_reconnects_total",
        "Connection attempts to a camera after the first one.",
        new CounterConfiguration { LabelNames = ["camera"] });

    public static readonly Gauge CameraUp = Metrics.CreateGauge(
        "citysight_camera_up",
        "1 while frames flow from the camera, else 0.",
        new GaugeConfiguration { LabelNames = ["camera"] });
}
