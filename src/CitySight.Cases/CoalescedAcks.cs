using Prometheus;

namespace CitySight.Cases;

/// <summary>
/// Consumer acks, coalesced, for every backend: each ack waits in memory, and one flush at a time writes every consumer's
/// highest pending sequence in ONE transaction (the backend's <see cref="FlushAsync"/>), then answers all the acks it
/// covered. A flood of N acks costs a few commits, not N. After a flush, acks gather for <see cref="Gathering"/> before
/// the next, even when none is pending yet: consumers that ack again as soon as they are answered would otherwise set
/// off one flush after another and keep the store's writer busy.
/// </summary>
/// <remarks>An ack is answered only once the transaction that holds it has committed: what Ack returned survives a restart.</remarks>
internal abstract class CoalescedAcks
{
    private static readonly Counter AckCommits = Metrics.CreateCounter(
        "citysight_case_feed_ack_commits_total", "Transactions that wrote consumer cursors (each covers every ack pending then).");

    private readonly Lock _gate = new();
    private Dictionary<string, List<PendingAck>> _pending = new(StringComparer.Ordinal);
    private bool _flushing;
    private long _commits;

    /// <summary>Transactions written so far (each covers every ack that was pending when it began).</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>The consumer's cursor once <paramref name="sequence"/> (or a later ack) is durable.</summary>
    public Task<long> AckAsync(string consumer, long sequence, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (_gate)
        {
            if (!_pending.TryGetValue(consumer, out var list)) _pending[consumer] = list = [];
            list.Add(new PendingAck(sequence, done));
            start = !_flushing;
            _flushing = true;
        }
        if (start) _ = Task.Run(FlushLoopAsync, CancellationToken.None);
        // A caller that gives up still leaves its ack pending: it is written anyway, which an ack may always be.
        return done.Task.WaitAsync(ct);
    }

    /// <summary>
    /// Writes the acks <paramref name="take"/> hands over (call it when the transaction may start: every ack pending then
    /// joins it) and answers them, or fails them with the store's error; returns how long it kept the store's writer.
    /// </summary>
    protected abstract Task<TimeSpan> FlushAsync(Func<Dictionary<string, List<PendingAck>>> take);

    /// <summary>How long acks gather after a flush that took <paramref name="took"/>.</summary>
    protected abstract TimeSpan Gathering(TimeSpan took);

    /// <summary>Counts a committed flush.</summary>
    protected void Committed()
    {
        Interlocked.Increment(ref _commits);
        AckCommits.Inc();
    }

    private async Task FlushLoopAsync()
    {
        while (true)
        {
            var took = await FlushAsync(() =>
            {
                lock (_gate)
                {
                    var batch = _pending;
                    _pending = new(StringComparer.Ordinal);
                    return batch;
                }
            }).ConfigureAwait(false);
            await Task.Delay(Gathering(took)).ConfigureAwait(false);
            lock (_gate)
            {
                if (_pending.Count == 0)
                {
                    _flushing = false;
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Per consumer, the highest of its acks within the feed (<paramref name="last"/>, the committed head) and the acks
    /// that sequence answers; acks beyond the head fail at once. Sorted by consumer, so two nodes flushing the same
    /// consumers lock their rows in one order.
    /// </summary>
    protected static List<(string Consumer, long Sequence, List<PendingAck> Acks)> Highest(Dictionary<string, List<PendingAck>> batch, long last)
    {
        var highest = new List<(string Consumer, long Sequence, List<PendingAck> Acks)>(batch.Count);
        foreach (var (consumer, acks) in batch)
        {
            var valid = new List<PendingAck>(acks.Count);
            foreach (var a in acks)
            {
                if (a.Sequence <= last) valid.Add(a);
                else a.Done.TrySetException(new ArgumentException($"sequence {a.Sequence} is not in the feed (0..{last})"));
            }
            if (valid.Count > 0) highest.Add((consumer, valid.Max(a => a.Sequence), valid));
        }
        highest.Sort((a, b) => string.CompareOrdinal(a.Consumer, b.Consumer));
        return highest;
    }

    /// <summary>Answers every ack of <paramref name="highest"/> with its consumer's cursor as written.</summary>
    protected static void Answer(List<(string Consumer, long Sequence, List<PendingAck> Acks)> highest, long[] cursors)
    {
        for (var i = 0; i < highest.Count; i++)
            foreach (var a in highest[i].Acks) a.Done.TrySetResult(cursors[i]);
    }

    /// <summary>Fails every ack of <paramref name="batch"/> still waiting: nothing of it is promised.</summary>
    protected static void Fail(Dictionary<string, List<PendingAck>> batch, Exception error)
    {
        foreach (var acks in batch.Values)
            foreach (var a in acks) a.Done.TrySetException(error);
    }
}

/// <summary>One ack waiting for the flush that writes it.</summary>
internal sealed record PendingAck(long Sequence, TaskCompletionSource<long> Done);
