using System.Threading.Channels;
using CitySight.Domain;
using CitySight.Ingest;
using Prometheus;

namespace CitySight.Service;

/// <summary>
/// The bounded hand-offs between stages.
/// Frames: a live camera never waits for the detector. When detection falls behind, its frame is dropped (counted,
/// buffer returned to the pool), so memory stays flat and a stale street picture costs nothing. A file played as fast
/// as it decodes waits instead: an evaluation replay must see every sampled frame to give the same cases every time.
/// Detected frames: the rules stage is cheap, so inference simply waits for it.
/// </summary>
public sealed class PipelineChannels
{
    private static readonly Counter Dropped = Metrics.CreateCounter(
        "citysight_frames_dropped_total", "Decoded frames dropped because detection fell behind.", "camera");

    public PipelineChannels(int cameraCount)
    {
        Frames = Channel.CreateBounded<Frame>(
            new BoundedChannelOptions(Math.Max(4, cameraCount * 2)) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        Detected = Channel.CreateBounded<DetectedFrame>(
            new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });
    }

    public Channel<Frame> Frames { get; }
    public Channel<DetectedFrame> Detected { get; }

    /// <summary>How this camera hands frames to the detector: lossless for a file replayed faster than real time, dropping otherwise.</summary>
    public ChannelWriter<Frame> WriterFor(Camera camera) =>
        !VideoReader.IsNetworkUrl(camera.Url) && !camera.RealTime ? Frames.Writer : new DropWhenFull(Frames.Writer);

    private sealed class DropWhenFull(ChannelWriter<Frame> inner) : ChannelWriter<Frame>
    {
        public override bool TryWrite(Frame item)
        {
            if (inner.TryWrite(item)) return true;
            Dropped.WithLabels(item.CameraId).Inc();
            item.Dispose();
            // Handled: the frame is gone on purpose, the camera goes on.
            return true;
        }

        // Never waits: the channel is completed only after every camera has stopped, so "full" is the only refusal.
        public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(true);

        public override ValueTask WriteAsync(Frame item, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TryWrite(item);
            return ValueTask.CompletedTask;
        }

        public override bool TryComplete(Exception? error = null) => inner.TryComplete(error);
    }
}
