using System.Threading.Channels;
using CitySight.Domain;
using Prometheus;

namespace CitySight.Inference;

/// <summary>
/// The hand-off from every camera to the shared detector: one slot per camera where the newest frame wins.
/// When detection falls behind, a camera's older waiting frame is dropped (counted, buffer back to the pool), so at most
/// one frame per camera waits and memory stays flat however many cameras there are. Cameras are served in the order
/// their slots filled, so a fast camera cannot starve a slow one. A file played faster than real time is lossless
/// instead: its writer waits until its slot is empty, because an evaluation replay must see every sampled frame.
/// </summary>
public sealed class FrameMailboxes : IFrameHandOff
{
    private static readonly Counter Dropped = Metrics.CreateCounter(
        "citysight_frames_dropped_total", "Decoded frames replaced by a newer one before detection took them.", "camera", "group");
    private static readonly Gauge Waiting = Metrics.CreateGauge(
        "citysight_frames_waiting", "Frames waiting for the detector (at most one per camera).");

    /// <summary>Frames dropped so far over every camera (the sum of citysight_frames_dropped_total; read when asked, not per frame).</summary>
    public static long DroppedTotal => (long)Dropped.GetAllLabelValues().Sum(labels => Dropped.WithLabels(labels).Value);

    // Holds each mailbox at most once at a time (enqueued only when its slot goes from empty to full), so it is bounded by the camera count.
    private readonly Channel<Mailbox> _ready = Channel.CreateUnbounded<Mailbox>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The writer for one camera. Lossless (waits) when <paramref name="lossless"/>, newest-wins otherwise.</summary>
    public ChannelWriter<Frame> For(Camera camera, bool lossless) => new Mailbox(this, camera, lossless);

    /// <summary>Frames in the order their cameras became ready, until <see cref="Complete"/> and empty.</summary>
    public async IAsyncEnumerable<Frame> ReadAllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var box in _ready.Reader.ReadAllAsync(ct))
            if (box.Take() is { } frame) yield return frame;
    }

    /// <summary>No more frames will come (every camera has stopped).</summary>
    public void Complete() => _ready.Writer.TryComplete();

    /// <summary>Returns the buffers of frames nobody will read (shutdown).</summary>
    public void DisposeWaiting()
    {
        while (_ready.Reader.TryRead(out var box)) box.Take()?.Dispose();
    }

    private sealed class Mailbox(FrameMailboxes owner, Camera camera, bool lossless) : ChannelWriter<Frame>
    {
        private readonly SemaphoreSlim? _space = lossless ? new SemaphoreSlim(1, 1) : null;
        private readonly Counter.Child _dropped = Dropped.WithLabels(camera.Id, camera.GroupId);
        private Frame? _latest;

        public override bool TryWrite(Frame item)
        {
            if (_space is not null && !_space.Wait(0)) return false;
            Post(item);
            return true;
        }

        public override async ValueTask WriteAsync(Frame item, CancellationToken cancellationToken = default)
        {
            if (_space is not null)
            {
                try { await _space.WaitAsync(cancellationToken); }
                catch { item.Dispose(); throw; }
            }
            Post(item);
        }

        public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) =>
            _space is null ? ValueTask.FromResult(true) : WaitForSpace(cancellationToken);

        private async ValueTask<bool> WaitForSpace(CancellationToken ct)
        {
            await _space!.WaitAsync(ct);
            _space.Release();
            return true;
        }

        private void Post(Frame frame)
        {
            var older = Interlocked.Exchange(ref _latest, frame);
            if (older is null)
            {
                Waiting.Inc();
                if (!owner._ready.Writer.TryWrite(this)) Take()?.Dispose();
                return;
            }
            _dropped.Inc();
            older.Dispose();
        }

        public Frame? Take()
        {
            var frame = Interlocked.Exchange(ref _latest, null);
            if (frame is null) return null;
            Waiting.Dec();
            _space?.Release();
            return frame;
        }
    }
}
