using System.Threading.Channels;
using CitySight.Domain;

namespace CitySight.Bench;

internal static partial class InferenceBench
{
    /// <summary>Lets frames in, or holds them (a file) or drops them (a live stream) while the bare model runs.</summary>
    private sealed class Gate
    {
        private volatile TaskCompletionSource _open = Opened();

        private static TaskCompletionSource Opened()
        {
            var t = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            t.SetResult();
            return t;
        }

        public bool IsOpen => _open.Task.IsCompleted;

        public void Close()
        {
            if (IsOpen) _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public void Open() => _open.TrySetResult();

        public Task WaitAsync(CancellationToken ct) => _open.Task.WaitAsync(ct);
    }

    /// <summary>A stream's writer behind the <see cref="Gate"/>; counts the frames it let in (for the drain).</summary>
    private sealed class GatedWriter(ChannelWriter<Frame> inner, Gate gate, bool live) : ChannelWriter<Frame>
    {
        private long _passed;

        public long Passed => Interlocked.Read(ref _passed);

        public override bool TryWrite(Frame item)
        {
            if (!gate.IsOpen)
            {
                if (!live) return false;
                item.Dispose(); // a live camera goes on streaming; while paused its frames are not wanted
                return true;
            }
            Interlocked.Increment(ref _passed);
            if (inner.TryWrite(item)) return true;
            Interlocked.Decrement(ref _passed);
            return false;
        }

        public override ValueTask WriteAsync(Frame item, CancellationToken cancellationToken = default)
        {
            if (!gate.IsOpen) return WriteWhenOpenAsync(item, cancellationToken);
            Interlocked.Increment(ref _passed);
            return inner.WriteAsync(item, cancellationToken); // the mailbox disposes the frame if the wait is cancelled
        }

        private async ValueTask WriteWhenOpenAsync(Frame item, CancellationToken ct)
        {
            if (live)
            {
                item.Dispose();
                return;
            }
            try
            {
                await gate.WaitAsync(ct).ConfigureAwait(false);
            }
            catch
            {
                item.Dispose();
                throw;
            }
            Interlocked.Increment(ref _passed);
            await inner.WriteAsync(item, ct).ConfigureAwait(false);
        }

        public override async ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default)
        {
            if (!live && !gate.IsOpen) await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            return await inner.WaitToWriteAsync(cancellationToken).ConfigureAwait(false);
        }

        public override bool TryComplete(Exception? error = null) => inner.TryComplete(error);
    }
}
