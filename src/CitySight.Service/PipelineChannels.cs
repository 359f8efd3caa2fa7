using System.Threading.Channels;
using CitySight.Domain;
using CitySight.Inference;
using CitySight.Ingest;

namespace CitySight.Service;

/// <summary>
/// The bounded hand-offs between stages. Frames: per-camera mailboxes, newest wins (see <see cref="FrameMailboxes"/>);
/// detected frames: a small channel that waits, since the rules stage is cheap.
/// </summary>
public sealed class PipelineChannels
{
    public FrameMailboxes Frames { get; } = new();

    /// <summary>
    /// The ingest side of the frame hand-off: frames come from two producers, the streams and the patrol; the hand-off
    /// completes when both have stopped.
    /// </summary>
    public FrameProducers Producers { get; }

    public PipelineChannels() => Producers = new FrameProducers(Frames, producers: 2);

    public Channel<DetectedFrame> Detected { get; } = Channel.CreateBounded<DetectedFrame>(
        new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });

    /// <summary>Tracked frames, tracking → case raising: small, and waits too (the rules are cheap); nothing is dropped between them.</summary>
    public Channel<TrackedFrame> Tracked { get; } = Channel.CreateBounded<TrackedFrame>(
        new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });
}
