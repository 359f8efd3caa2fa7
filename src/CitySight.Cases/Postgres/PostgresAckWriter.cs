using Npgsql;
using NpgsqlTypes;
using System.Diagnostics;

namespace CitySight.Cases.Postgres;

/// <summary>
/// Consumer acks, coalesced as in SQLite: each ack waits in memory, and one flusher writes every consumer's highest
/// pending sequence in ONE transaction, then answers all the acks it covered. A flood of N acks costs a few commits.
/// </summary>
/// <remarks>
/// An ack is answered only after its transaction committed (synchronous_commit: durable). The cursor only moves forward
/// (GREATEST in the upsert), so two nodes flushing the same consumer's acks in any order keep the higher one. The range
/// check reads the committed head in the same transaction: every sequence up to it is committed, on whichever node.
/// </remarks>
internal sealed class PostgresAckWriter(PostgresDatabase db) : CoalescedAcks
{
    /// <summary>Acks gather at least this long after a flush (and twice as long as the flush took) before the next.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(20);

    protected override TimeSpan Gathering(TimeSpan took) => took * 2 > FlushInterval ? took * 2 : FlushInterval;

    protected override async Task<TimeSpan> FlushAsync(Func<Dictionary<string, List<PendingAck>>> take)
    {
        var batch = take();
        var started = Stopwatch.GetTimestamp();
        try
        {
            await using var conn = await db.OpenAsync(CancellationToken.None).ConfigureAwait(false);
            await using var tx = await conn.BeginTransactionAsync().ConfigureAwait(false);
            var last = await PostgresFeedListener.ReadHeadAsync(conn, CancellationToken.None).ConfigureAwait(false);
            // Sorted by consumer: two nodes flushing the same consumers never deadlock on their rows.
            var highest = Highest(batch, last);
            if (highest.Count == 0) return Stopwatch.GetElapsedTime(started);

            var cursors = new long[highest.Count];
            await using (var cmd = new NpgsqlCommand("""
                INSERT INTO consumers (name, acked_sequence, acked_at_ms) VALUES (@name, @seq, @now)
                ON CONFLICT (name) DO UPDATE SET acked_sequence = GREATEST(consumers.acked_sequence, excluded.acked_sequence),
                                                 acked_at_ms = excluded.acked_at_ms
                RETURNING acked_sequence;
                """, conn, tx))
            {
                var name = cmd.Parameters.Add("name", NpgsqlDbType.Text);
                var seq = cmd.Parameters.Add("seq", NpgsqlDbType.Bigint);
                cmd.Parameters.AddWithValue("now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                for (var i = 0; i < highest.Count; i++)
                {
                    name.Value = highest[i].Consumer;
                    seq.Value = highest[i].Sequence;
                    cursors[i] = Convert.ToInt64(await cmd.ExecuteScalarAsync().ConfigureAwait(false));
                }
            }
            await tx.CommitAsync().ConfigureAwait(false);
            Committed();
            Answer(highest, cursors);
        }
        catch (Exception ex)
        {
            // Nothing of this batch is promised: every ack still waiting fails with the store's error.
            Fail(batch, PostgresDatabase.IsStorage(ex) ? db.AsIo(ex) : ex);
        }
        return Stopwatch.GetElapsedTime(started);
    }
}
