using System.Diagnostics;

namespace CitySight.Cases.Sqlite;

/// <summary>
/// The one thread that writes the database: case writes in the order they came, and the background writes (coalesced
/// acks, evidence pruning) only while no case write waits (or once one has waited <see cref="MaxDefer"/>), so a flood of
/// acks never stands in a case's way. SQLite has one writer at a time anyway; this makes it one thread, which the OS can
/// be asked to favour.
/// </summary>
/// <remarks>
/// Why a thread of its own: on a small box the delivery side (thousands of streams, an ack flood) keeps every core busy
/// with pool work, and a commit, which sleeps and wakes several times (each fsync), waited 5-14 ms for a CPU after a wake
/// (measured with /proc/thread-self/schedstat on two cores under `bench-feed --ack-flood`): a commit on a pool thread
/// queues behind the very delivery work it causes. One thread, at a raised priority where the OS allows it
/// (<see cref="WriterPriority"/>), took the loaded p99 from 3.1x the quiet one to 1.7-1.8x. Where the process may not
/// raise it (no CAP_SYS_NICE), the thread runs at normal priority and the store says so.
/// Awaiting callers resume on the pool, never on this thread: nothing but store code runs here.
/// </remarks>
internal sealed class StoreWriter : IDisposable
{
    /// <summary>How long a background write waits for the case writes to pause before it goes next anyway.</summary>
    public static readonly TimeSpan MaxDefer = TimeSpan.FromMilliseconds(50);

    private readonly object _gate = new(); // Monitor.Wait/Pulse: the writer sleeps until work comes
    private readonly Queue<Work> _cases = new();
    private readonly Queue<Work> _background = new();
    private readonly Thread _thread;
    private readonly TaskCompletionSource<bool> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stopping;

    public StoreWriter(string name)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
        Raised = _started.Task.GetAwaiter().GetResult();
    }

    /// <summary>Whether the OS favours the writer over ordinary threads (see <see cref="WriterPriority"/>).</summary>
    public bool Raised { get; }

    /// <summary>A case write: runs after the case writes queued before it. The task completes on the pool.</summary>
    public Task<T> WriteAsync<T>(Func<T> work, CancellationToken ct = default) => Enqueue(work, background: false, ct);

    /// <summary>A write that may wait: runs when no case write is queued, or after <see cref="MaxDefer"/>.</summary>
    public Task<T> WriteWhenIdleAsync<T>(Func<T> work, CancellationToken ct = default) => Enqueue(work, background: true, ct);

    private Task<T> Enqueue<T>(Func<T> work, bool background, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var item = new Work<T>(work, ct);
        lock (_gate)
        {
            if (_stopping) throw new ObjectDisposedException(nameof(SqliteCaseStore));
            (background ? _background : _cases).Enqueue(item);
            Monitor.Pulse(_gate);
        }
        return item.Task;
    }

    private void Loop()
    {
        _started.SetResult(WriterPriority.TryRaiseCurrentThread());
        while (true)
        {
            Work next;
            lock (_gate)
            {
                while (_cases.Count == 0 && _background.Count == 0)
                {
                    if (_stopping) return;
                    Monitor.Wait(_gate);
                }
                next = _background.Count > 0 && (_cases.Count == 0 || _background.Peek().Waited > MaxDefer)
                    ? _background.Dequeue()
                    : _cases.Dequeue();
            }
            next.Run();
        }
    }

    /// <summary>Takes no more work; what is queued still runs (and fails on a closed database), then the thread ends.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping) return;
            _stopping = true;
            Monitor.Pulse(_gate);
        }
        if (Thread.CurrentThread != _thread) _thread.Join();
    }

    private abstract class Work
    {
        private readonly long _queuedAt = Stopwatch.GetTimestamp();
        public TimeSpan Waited => Stopwatch.GetElapsedTime(_queuedAt);
        public abstract void Run();
    }

    private sealed class Work<T> : Work
    {
        private readonly Func<T> _work;
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenRegistration _cancel;
        private int _state; // 0 queued, 1 taken by the writer, 2 cancelled before it was taken

        public Work(Func<T> work, CancellationToken ct)
        {
            _work = work;
            // A caller that gives up while its write waits is answered at once, and the write never runs: cancelled means
            // not written. Once the writer has taken it, it runs to its end (a commit is never left half-done).
            if (ct.CanBeCanceled)
                _cancel = ct.UnsafeRegister(static (s, token) =>
                {
                    var w = (Work<T>)s!;
                    if (Interlocked.CompareExchange(ref w._state, 2, 0) == 0) w._done.TrySetCanceled(token);
                }, this);
        }

        public Task<T> Task => _done.Task;

        public override void Run()
        {
            if (Interlocked.CompareExchange(ref _state, 1, 0) != 0) return;
            _cancel.Dispose();
            try
            {
                _done.TrySetResult(_work());
            }
            catch (Exception ex)
            {
                _done.TrySetException(ex);
            }
        }
    }
}
