using System.Threading.Channels;
using CitySight.Domain;
using CitySight.Ingest;

namespace CitySight.Service;

/// <summary>
/// The bounded hand-offs between stages. Frames: per-camera mailboxes, newest wins (see <see cref="FrameMailboxes"/>);
/// detected frames: a small channel that waits, since the rules stage is cheap.
/// </summary>
public sealed class PipelineChannels
{
    public FrameMailboxes Frames { get; } = new();

    // Frames come from two producers, the streams and the patrol; the hand-off completes when both have stopped.
    private int _producers = 2;

    public void ProducerStopped()
    {
        if (Interlocked.Decrement(ref _producers) == 0) Frames.Complete();
    }

    public Channel<DetectedFrame> Detected { get; } = Channel.CreateBounded<DetectedFrame>(
        new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });

    /// <summary>Lossless for a file replayed faster than real time (evaluation), newest-wins for everything live.</summary>
    public ChannelWriter<Frame> WriterFor(Camera camera) =>
        Frames.For(camera, lossless: !VideoReader.IsNetworkUrl(camera.Url) && !camera.RealTime);
}
