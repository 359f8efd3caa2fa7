using System.Threading.Channels;
using CitySight.Domain;

namespace CitySight.Ingest.Tests;

/// <summary>
/// The detector's side of the frame hand-off, for ingest's tests: every camera's frames into one channel in the order
/// written (no dropping, no waiting), ending when ingest completes the hand-off.
/// </summary>
internal sealed class DetectorHandOff : IFrameHandOff
{
    private readonly Channel<Frame> _frames = Channel.CreateUnbounded<Frame>();

    public ChannelReader<Frame> Frames => _frames.Reader;

    public ChannelWriter<Frame> For(Camera camera, bool lossless) => new CameraWriter(_frames.Writer);

    public void Complete() => _frames.Writer.TryComplete();

    /// <summary>One camera's writer: it cannot complete the hand-off for every camera.</summary>
    private sealed class CameraWriter(ChannelWriter<Frame> all) : ChannelWriter<Frame>
    {
        public override bool TryWrite(Frame item) => all.TryWrite(item);
        public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) => all.WaitToWriteAsync(cancellationToken);
    }
}
