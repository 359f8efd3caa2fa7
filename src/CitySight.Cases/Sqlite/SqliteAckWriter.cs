using System.Diagnostics;
using Prometheus;

namespace CitySight.Cases.Sqlite;

/// <summary>
/// Consumer acks, coalesced: each ack waits in memory, and one flusher writes every consumer's highest pending sequence
/// in ONE fsynced transaction, then answers all the acks it covered. A flood of N acks costs a few commits, not N, so
/// acks never keep the store's writer from a case commit for long.
/// </summary>
/// <remarks>
/// An ack is answered only after the transaction that holds it has committed: what Ack returned survives a restart.
/// The cursor still only moves forward (MAX in the upsert), and the range check runs on the writer thread, after every commit before it.
/// </remarks>
internal sealed class SqliteAckWriter(SqliteDatabase db, Func<long> head)
{
    /// <summary>
    /// After a flush, acks gather at least this long before the next one, and at least <see cref="GatherFactor"/> times as
    /// long as that flush took: under a flood, ack commits then keep the writer a tenth of the time at most, whatever
    /// fsync costs, so few case commits ever wait behind one. (At 10 ms and twice the flush, a third of the time: on a
    /// quiet two-core box a flood of 2,200 acks a second then made the case commits' p99 2.3× the quiet one.) An ack is
    /// bookkeeping, not dispatch: a tenth of a second more before it is answered costs nobody anything.
    /// </summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The gathering time after a flush, as a multiple of how long that flush kept the writer.</summary>
    private const int GatherFactor = 9;

    private static readonly Counter AckCommits = Metrics.CreateCounter(
        "citysight_case_feed_ack_commits_total", "Transactions that wrote consumer cursors (each covers every ack pending then).");

    private readonly Lock _gate = new();
    private Dictionary<string, List<Pending>> _pending = new(StringComparer.Ordinal);
    private bool _flushing;
    private long _commits;

    private sealed record Pending(long Sequence, TaskCompletionSource<long> Done);

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
            list.Add(new Pending(sequence, done));
            start = !_flushing;
            _flushing = true;
        }
        if (start) _ = Task.Run(FlushLoopAsync, CancellationToken.None);
        // A caller that gives up still leaves its ack pending: it is written anyway, which an ack may always be.
        return done.Task.WaitAsync(ct);
    }

    private async Task FlushLoopAsync()
    {
        while (true)
        {
            long took = 0;
            // Behind any case write that waits (StoreWriter): every ack pending when the writer takes it joins this transaction.
            var answer = await db.Writer.WriteWhenIdleAsync(() =>
            {
                var started = Stopwatch.GetTimestamp();
                Dictionary<string, List<Pending>> batch;
                lock (_gate) (batch, _pending) = (_pending, new(StringComparer.Ordinal));
                var a = Flush(batch);
                took = Stopwatch.GetElapsedTime(started).Ticks;
                return a;
            }).ConfigureAwait(false);
            answer?.Invoke(); // here on the pool, not on the writer thread
            // Gather before the next flush even when nothing is pending yet: consumers that ack as soon as they are
            // answered would otherwise start a flush each time, back to back, and keep the writer busy most of the time.
            var gather = TimeSpan.FromTicks(took * GatherFactor);
            await Task.Delay(gather > FlushInterval ? gather : FlushInterval).ConfigureAwait(false);
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
    /// On the writer thread: one transaction for every consumer in <paramref name="batch"/>. Returns what answers the acks
    /// it made durable (to run once the lock is released); acks out of range and a failed transaction fail at once.
    /// </summary>
    private Action? Flush(Dictionary<string, List<Pending>> batch)
    {
        // Checked on the writer thread: a follower can read a row whose commit has not yet moved the head, and every
        // commit moves the head before the writer takes its next work.
        var last = head();
        var highest = new List<(string Consumer, long Sequence, List<Pending> Acks)>(batch.Count);
        foreach (var (consumer, acks) in batch)
        {
            var valid = new List<Pending>(acks.Count);
            foreach (var a in acks)
            {
                if (a.Sequence <= last) valid.Add(a);
                else a.Done.TrySetException(new ArgumentException($"sequence {a.Sequence} is not in the feed (0..{last})"));
            }
            if (valid.Count > 0) highest.Add((consumer, valid.Max(a => a.Sequence), valid));
        }
        if (highest.Count == 0) return null;

        var cursors = new long[highest.Count];
        try
        {
            using var conn = db.Connect();
            using var tx = conn.BeginTransaction();
            using var cmd = conn.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT INTO consumers (name, acked_sequence, acked_at_ms) VALUES ($name, $seq, $now)
                ON CONFLICT(name) DO UPDATE SET acked_sequence = MAX(acked_sequence, excluded.acked_sequence),
                                                acked_at_ms = excluded.acked_at_ms
                RETURNING acked_sequence;
                """;
            var name = cmd.Parameters.Add("$name", Microsoft.Data.Sqlite.SqliteType.Text);
            var seq = cmd.Parameters.Add("$seq", Microsoft.Data.Sqlite.SqliteType.Integer);
            cmd.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            for (var i = 0; i < highest.Count; i++)
            {
                name.Value = highest[i].Consumer;
                seq.Value = highest[i].Sequence;
                cursors[i] = Convert.ToInt64(cmd.ExecuteScalar());
            }
            tx.Commit();
            Interlocked.Increment(ref _commits);
            AckCommits.Inc();
        }
        catch (Exception ex)
        {
            // Nothing of this batch is promised: every ack in it fails with the store's error (closed, disk full, ...).
            foreach (var h in highest)
                foreach (var a in h.Acks) a.Done.TrySetException(ex);
            return null;
        }
        return () =>
        {
            for (var i = 0; i < highest.Count; i++)
                foreach (var a in highest[i].Acks) a.Done.TrySetResult(cursors[i]);
        };
    }
}
