using System.Threading.Channels;
using CitySight.Domain;
using CitySight.Imaging;

namespace CitySight.Inference;

/// <summary>
/// The frame hand-off with the cameras' latest pictures taken on the way (<see cref="CameraPictures"/>): a frame is
/// offered to its camera's picture before it is handed on, on the producer's own thread (each stream's reader, the
/// patrol's visit), so the detector's loop and the mailboxes' lock-free post never wait for an encode, and a patrol
/// visit's one frame becomes the camera's picture.
/// </summary>
public sealed class PictureTap(IFrameHandOff inner, CameraPictures pictures) : IFrameHandOff
{
    public ChannelWriter<Frame> For(Camera camera, bool lossless) => new Writer(inner.For(camera, lossless), pictures.SlotFor(camera.Id));

    public void Complete() => inner.Complete();

    private sealed class Writer(ChannelWriter<Frame> inner, CameraPictureSlot slot) : ChannelWriter<Frame>
    {
        public override bool TryWrite(Frame item)
        {
            // Before the hand-off: once written, the frame is the detector's and may be returned to the pool.
            slot.Offer(item);
            return inner.TryWrite(item);
        }

        public override ValueTask WriteAsync(Frame item, CancellationToken cancellationToken = default)
        {
            slot.Offer(item);
            return inner.WriteAsync(item, cancellationToken);
        }

        public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) =>
            inner.WaitToWriteAsync(cancellationToken);

        public override bool TryComplete(Exception? error = null) => inner.TryComplete(error);
    }
}
