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
    private readonly object _gate = new();
    private int _producers = 2;
    private bool _complete;

    public void ProducerStopped()
    {
        lock (_gate)
        {
            if (--_producers > 0) return;
            _complete = true;
        }
        Frames.Complete();
    }

    /// <summary>Every producer has stopped and the detector was told no more frames will come.</summary>
    public bool HandOffComplete
    {
        get { lock (_gate) return _complete; }
    }

    /// <summary>
    /// A producer that had stopped (a patrol with nothing to visit) takes cameras again. False once the hand-off has
    /// completed: every producer had stopped, and the detector has been told no more frames will come.
    /// </summary>
    public bool TryResumeProducer()
    {
        lock (_gate)
        {
            if (_complete) return false;
            _producers++;
            return true;
        }
    }

    public Channel<DetectedFrame> Detected { get; } = Channel.CreateBounded<DetectedFrame>(
        new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });

    /// <summary>Tracked frames, tracking → case raising: small, and waits too (the rules are cheap); nothing is dropped between them.</summary>
    public Channel<TrackedFrame> Tracked { get; } = Channel.CreateBounded<TrackedFrame>(
        new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });

    /// <summary>Lossless for a file replayed faster than real time (evaluation), newest-wins for everything live.</summary>
    public ChannelWriter<Frame> WriterFor(Camera camera) =>
        Frames.For(camera, lossless: !VideoReader.IsNetworkUrl(camera.Url) && !camera.RealTime);
}
