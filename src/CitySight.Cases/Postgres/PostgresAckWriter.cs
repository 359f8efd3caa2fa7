using Npgsql;
using NpgsqlTypes;
using Prometheus;

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
internal sealed class PostgresAckWriter(PostgresDatabase db)
{
    /// <summary>Acks gather at least this long after a flush (and twice as long as the flush took) before the next.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(20);

    private static readonly Counter AckCommits = Metrics.CreateCounter(
        "citysight_case_feed_ack_commits_total", "Transactions that wrote consumer cursors (each covers every ack pending then).");

    private readonly Lock _gate = new();
    private Dictionary<string, List<Pending>> _pending = new(StringComparer.Ordinal);
    private bool _flushing;
    private long _commits;

    private sealed record Pending(long Sequence, TaskCompletionSource<long> Done);

    public long Commits => Interlocked.Read(ref _commits);

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
            Dictionary<string, List<Pending>> batch;
            lock (_gate) (batch, _pending) = (_pending, new(StringComparer.Ordinal));
            var started = TimeProvider.System.GetTimestamp();
            await FlushAsync(batch).ConfigureAwait(false);
            var took = TimeProvider.System.GetElapsedTime(started) * 2;
            await Task.Delay(took > FlushInterval ? took : FlushInterval).ConfigureAwait(false);
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

    private async Task FlushAsync(Dictionary<string, List<Pending>> batch)
    {
        var all = batch.Values.SelectMany(a => a).ToList();
        try
        {
            await using var conn = await db.OpenAsync(CancellationToken.None).ConfigureAwait(false);
            await using var tx = await conn.BeginTransactionAsync().ConfigureAwait(false);
            var last = await PostgresFeedListener.ReadHeadAsync(conn, CancellationToken.None).ConfigureAwait(false);
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
            if (highest.Count == 0) return;
            // Always in the same order, so two nodes flushing the same consumers never deadlock on their rows.
            highest.Sort((a, b) => string.CompareOrdinal(a.Consumer, b.Consumer));

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
            Interlocked.Increment(ref _commits);
            AckCommits.Inc();
            for (var i = 0; i < highest.Count; i++)
                foreach (var a in highest[i].Acks) a.Done.TrySetResult(cursors[i]);
        }
        catch (Exception ex)
        {
            // Nothing of this batch is promised: every ack still waiting fails with the store's error.
            var error = PostgresDatabase.IsStorage(ex) ? db.AsIo(ex) : ex;
            foreach (var a in all) a.Done.TrySetException(error);
        }
    }
}
