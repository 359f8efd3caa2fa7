using System.Threading.Tasks.Sources;

namespace CitySight.Cases;

/// <summary>
/// "Something was committed", broadcast to every follower of a feed. Each commit counts one generation; a follower
/// notes the generation, looks at the store, and then waits for a later one, so a commit racing with its look still
/// wakes it. Nothing is allocated per wake: every follower has one reusable <see cref="Waiter"/>, and the lists of
/// those waiting are recycled.
/// </summary>
/// <remarks>
/// Issue 14: with 2,000 subscribers each commit woke 2,000 followers through a shared TaskCompletionSource and a
/// cancellable <c>Task.WaitAsync</c> each. The wait's state machine, its cancellation promise, the continuation list and
/// the shared read's task cost ~265 bytes per follower per commit (sampled in `bench-feed --idle-subscribers 2000`:
/// 90 % of what the server allocated), 40,000 times a second at 20 cases a second, and the collections that brought
/// were what a case commit waited for.
/// </remarks>
internal sealed class CommitSignal
{
    private readonly Lock _gate = new();
    private List<Waiter> _waiting = [];
    private readonly Stack<List<Waiter>> _spare = new();
    private long _generation;

    /// <summary>Commits published so far.</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>
    /// A commit is published: the next generation, and every waiting follower woken from the thread pool (never on the
    /// committer's thread, the store's writer).
    /// </summary>
    public void Publish()
    {
        List<Waiter> woken;
        lock (_gate)
        {
            Volatile.Write(ref _generation, _generation + 1);
            if (_waiting.Count == 0) return;
            woken = _waiting;
            _waiting = _spare.TryPop(out var list) ? list : [];
        }
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.Signal.Wake(state.Woken), (Signal: this, Woken: woken), preferLocal: false);
    }

    private void Wake(List<Waiter> woken)
    {
        foreach (var w in woken) w.Complete(cancelled: false);
        woken.Clear();
        lock (_gate) _spare.Push(woken);
    }

    /// <summary>One follower's waiter for its whole life; <paramref name="stop"/> ends any wait with OperationCanceledException.</summary>
    public Waiter Join(CancellationToken stop) => new(this, stop);

    /// <summary>Under the gate: enqueues <paramref name="w"/> unless a commit came after <paramref name="seen"/>.</summary>
    private bool TryEnqueue(Waiter w, long seen)
    {
        lock (_gate)
        {
            if (_generation > seen) return false;
            _waiting.Add(w);
            return true;
        }
    }

    private void Remove(Waiter w)
    {
        lock (_gate) _waiting.Remove(w);
    }

    /// <summary>A follower's reusable wait for the next commit.</summary>
    public sealed class Waiter : IValueTaskSource, IDisposable
    {
        private readonly CommitSignal _signal;
        private readonly CancellationToken _stop;
        private readonly CancellationTokenRegistration _registration;
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
        private int _armed; // 1 while a wait is outstanding: whoever sets it back to 0 completes it (a commit or the stop)

        internal Waiter(CommitSignal signal, CancellationToken stop)
        {
            _signal = signal;
            _stop = stop;
            _registration = stop.UnsafeRegister(static w => ((Waiter)w!).Stopped(), this);
        }

        /// <summary>Completes once a commit later than <paramref name="seen"/> (a <see cref="Generation"/>) is published.</summary>
        public ValueTask WaitAsync(long seen)
        {
            _stop.ThrowIfCancellationRequested();
            _core.Reset();
            Volatile.Write(ref _armed, 1);
            if (!_signal.TryEnqueue(this, seen))
            {
                Volatile.Write(ref _armed, 0);
                return ValueTask.CompletedTask;
            }
            // A stop that came between the check above and the enqueue found nothing armed to cancel.
            if (_stop.IsCancellationRequested) Stopped();
            return new ValueTask(this, _core.Version);
        }

        internal void Complete(bool cancelled)
        {
            if (Interlocked.CompareExchange(ref _armed, 0, 1) != 1) return;
            if (cancelled) _core.SetException(new OperationCanceledException(_stop));
            else _core.SetResult(true);
        }

        private void Stopped()
        {
            _signal.Remove(this);
            Complete(cancelled: true);
        }

        void IValueTaskSource.GetResult(short token) => _core.GetResult(token);
        ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

        void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        public void Dispose()
        {
            _registration.Dispose();
            _signal.Remove(this);
        }
    }
}
