using System.Diagnostics;

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
internal sealed class SqliteAckWriter(SqliteDatabase db, Func<long> head) : CoalescedAcks
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

    protected override TimeSpan Gathering(TimeSpan took) => took * GatherFactor > FlushInterval ? took * GatherFactor : FlushInterval;

    protected override async Task<TimeSpan> FlushAsync(Func<Dictionary<string, List<PendingAck>>> take)
    {
        var took = TimeSpan.Zero;
        Action? answer;
        try
        {
            // Behind any case write that waits (StoreWriter): every ack pending when the writer takes it joins this transaction.
            answer = await db.Writer.WriteWhenIdleAsync(() =>
            {
                var started = Stopwatch.GetTimestamp();
                var a = Flush(take());
                took = Stopwatch.GetElapsedTime(started);
                return a;
            }).ConfigureAwait(false);
        }
        catch (ObjectDisposedException ex)
        {
            Fail(take(), ex); // the store closed before the writer took them
            return took;
        }
        answer?.Invoke(); // here on the pool, not on the writer thread
        return took;
    }

    /// <summary>
    /// On the writer thread: one transaction for every consumer in <paramref name="batch"/>. Returns what answers the acks
    /// it made durable (to run off the writer thread); acks out of range and a failed transaction fail at once.
    /// </summary>
    private Action? Flush(Dictionary<string, List<PendingAck>> batch)
    {
        // Checked on the writer thread: a follower can read a row whose commit has not yet moved the head, and every
        // commit moves the head before the writer takes its next work.
        var highest = Highest(batch, head());
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
            Committed();
        }
        catch (Exception ex)
        {
            // Nothing of this batch is promised: every ack in it fails with the store's error (closed, disk full, ...).
            Fail(batch, ex);
            return null;
        }
        return () => Answer(highest, cursors);
    }
}
