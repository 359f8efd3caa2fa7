using System.Threading.Channels;
using CitySight.Domain;
using CitySight.Imaging;
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

    /// <summary>As <see cref="PipelineChannels()"/>, with each camera's latest picture for the console taken on the way in (<see cref="PictureTap"/>).</summary>
    public PipelineChannels(CameraPictures pictures)
    {
        Pictures = pictures;
        Producers = new FrameProducers(new PictureTap(Frames, pictures), producers: 2);
    }

    /// <summary>The cameras' latest pictures; null when none are taken.</summary>
    public CameraPictures? Pictures { get; }

    public Channel<DetectedFrame> Detected { get; } = Channel.CreateBounded<DetectedFrame>(
        new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });

    /// <summary>Tracked frames, tracking → case raising: small, and waits too (the rules are cheap); nothing is dropped between them.</summary>
    public Channel<TrackedFrame> Tracked { get; } = Channel.CreateBounded<TrackedFrame>(
        new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });
}
