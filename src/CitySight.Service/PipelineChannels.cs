using System.Threading.Channels;
using CitySight.Domain;
using Prometheus;

namespace CitySight.Service;

/// <summary>
/// The bounded hand-offs between stages. Frames: newest wins (a stale street picture is worth nothing,
/// and memory must stay flat when detection falls behind); detected frames: the rules stage is cheap,
/// so inference simply waits for it.
/// </summary>
public sealed class PipelineChannels
{
    private static readonly Counter Dropped = Metrics.CreateCounter(
        "citysight_frames_dropped_total", "Decoded frames dropped because detection fell behind.", "camera");

    public PipelineChannels(int cameraCount)
    {
        Frames = Channel.CreateBounded<Frame>(
            new BoundedChannelOptions(Math.Max(4, cameraCount * 2))
            {
                FullMode = BoundedChannelFullMode.DropOldest,
                SingleReader = true,
            },
            dropped =>
            {
                Dropped.WithLabels(dropped.CameraId).Inc();
                dropped.Dispose();
            });
        Detected = Channel.CreateBounded<DetectedFrame>(
            new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });
    }

    public Channel<Frame> Frames { get; }
    public Channel<DetectedFrame> Detected { get; }
}
