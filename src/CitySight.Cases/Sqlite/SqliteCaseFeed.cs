using CitySight.Domain;
using Microsoft.Data.Sqlite;

namespace CitySight.Cases.Sqlite;

/// <summary>
/// The outbox in SQLite: the append-only <c>feed</c> table (every commit that changes a case appends its event in the
/// same transaction), followers that replay then follow it, and the <c>consumers</c> table of acknowledged positions.
/// </summary>
/// <remarks>
/// Followers are woken by in-process signals, so one process owns a data folder: events written by another process
/// would only be seen on the next local commit.
/// </remarks>
internal sealed class SqliteCaseFeed : ICaseFeed
{
    private const int KindOpened = (int)CaseFeedKind.Opened;
    private const int KindStateChanged = (int)CaseFeedKind.StateChanged;
    private const int KindUpdated = (int)CaseFeedKind.Updated;

    private readonly SqliteDatabase _db;
    private readonly Func<string, byte[]> _readEvidence;

    private const int FeedReader = 0;
    private const int EventReader = 1;

    private readonly FeedFollowing _follow;
    private readonly SqliteAckWriter _acks;

    public SqliteCaseFeed(SqliteDatabase db, EvidenceFiles evidence)
    {
        _db = db;
        _readEvidence = evidence.ReadOrEmpty;
        _acks = new SqliteAckWriter(db, () => LastSequence);
        using var conn = db.Connect();
        _follow = new FeedFollowing(SqliteDatabase.Scalar<long>(conn, "SELECT COALESCE(MAX(sequence), 0) FROM feed;"),
            nameof(SqliteCaseStore), db.ThrowIfDisposed);
    }

    public long LastSequence => _follow.Head;

    /// <summary>Transactions that wrote acks so far (a flood of acks is coalesced into a few).</summary>
    public long AckCommits => _acks.Commits;

    /// <summary>Feed batches read from the store so far (followers at the same position share one).</summary>
    public long StoreReads => _follow.StoreReads;

    /// <summary>Appends one event to the feed inside <paramref name="tx"/>; its sequence. Call <see cref="Published"/> after the commit.</summary>
    public static long Append(SqliteConnection conn, SqliteTransaction tx, CaseFeedKind kind, string caseId, long nowMs)
    {
        using var feed = conn.CreateCommand();
        feed.Transaction = tx;
        feed.CommandText = "INSERT INTO feed (kind, case_id, recorded_at_ms) VALUES ($kind, $id, $now) RETURNING sequence;";
        feed.Parameters.AddWithValue("$kind", (int)kind);
        feed.Parameters.AddWithValue("$id", caseId);
        feed.Parameters.AddWithValue("$now", nowMs);
        return Convert.ToInt64(feed.ExecuteScalar());
    }

    /// <summary>Runs <paramref name="change"/> and appends its event in one transaction, then wakes the followers.</summary>
    public long CommitWithEvent(SqliteConnection conn, SqliteCommand change, CaseFeedKind kind, string caseId)
    {
        long sequence;
        using (var tx = conn.BeginTransaction())
        {
            change.Transaction = tx;
            change.ExecuteNonQuery();
            sequence = Append(conn, tx, kind, caseId, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            tx.Commit();
        }
        Published(sequence);
        return sequence;
    }

    /// <summary>
    /// After the commit of an event: moves the head and wakes the followers. Called on the writer thread, so the head
    /// has moved before the next writer (an ack's range check) runs.
    /// </summary>
    public void Published(long sequence) => _follow.Committed(sequence);

    public IAsyncEnumerable<Case> FeedAsync(long afterSequence, bool includeEvidence, CancellationToken ct = default) =>
        FollowAsync(FeedReader, afterSequence, includeEvidence, after => ReadFeedBatch(after, includeEvidence), c => c.Sequence, ct);

    public IAsyncEnumerable<Case> FeedAsync(long afterSequence, CancellationToken ct = default) =>
        FeedAsync(afterSequence, includeEvidence: true, ct);

    public IAsyncEnumerable<CaseFeedEvent> EventsAsync(long afterSequence, bool includeEvidence, CancellationToken ct = default) =>
        FollowAsync(EventReader, afterSequence, includeEvidence, after => ReadEventBatch(after, includeEvidence), e => e.Sequence, ct);

    private IAsyncEnumerable<T> FollowAsync<T>(int reader, long afterSequence, bool includeEvidence, Func<long, List<T>> read,
        Func<T, long> sequenceOf, CancellationToken ct) =>
        _follow.FollowAsync(reader, afterSequence, includeEvidence, read, sequenceOf, ct);

    private Func<string, byte[]>? Evidence(bool include) => include ? _readEvidence : null;

    private List<Case> ReadFeedBatch(long afterSequence, bool includeEvidence)
    {
        using var conn = _db.Connect();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"""
            SELECT {CaseRow.Columns} FROM feed f JOIN cases c ON c.id = f.case_id
            WHERE f.sequence > $after AND f.kind = {KindOpened}
            ORDER BY f.sequence LIMIT {FeedFollowing.BatchSize(includeEvidence)};
            """;
        cmd.Parameters.AddWithValue("$after", afterSequence);
        var list = new List<Case>();
        var evidence = Evidence(includeEvidence);
        using var r = cmd.ExecuteReader();
        while (r.Read()) list.Add(CaseRow.Read(r, evidence));
        return list;
    }

    private List<CaseFeedEvent> ReadEventBatch(long afterSequence, bool includeEvidence)
    {
        using var conn = _db.Connect();
        using var cmd = conn.CreateCommand();
        // A state event carries the case as it is now (its latest state), which is at least as new as the event.
        cmd.CommandText = $"""
            SELECT {CaseRow.Columns}, f.sequence, f.kind FROM feed f JOIN cases c ON c.id = f.case_id
            WHERE f.sequence > $after AND f.kind IN ({KindOpened}, {KindUpdated}, {KindStateChanged})
            ORDER BY f.sequence LIMIT {FeedFollowing.BatchSize(includeEvidence)};
            """;
        cmd.Parameters.AddWithValue("$after", afterSequence);
        var list = new List<CaseFeedEvent>();
        var evidence = Evidence(includeEvidence);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var c = CaseRow.Read(r, evidence);
            list.Add(new CaseFeedEvent(r.GetInt64(CaseRow.ColumnCount), (CaseFeedKind)r.GetInt32(CaseRow.ColumnCount + 1), c));
        }
        return list;
    }

    /// <summary>Durable before it returns; coalesced with the other acks pending (see <see cref="SqliteAckWriter"/>).</summary>
    public Task<long> AckAsync(string consumer, long sequence, CancellationToken ct = default)
    {
        ValidateConsumer(consumer);
        _db.ThrowIfDisposed();
        if (sequence < 0)
            throw new ArgumentException($"sequence {sequence} is not in the feed (0..{LastSequence})", nameof(sequence));
        return _acks.AckAsync(consumer, sequence, ct);
    }

    public Task<long> CursorAsync(string consumer, CancellationToken ct = default)
    {
        ValidateConsumer(consumer);
        ct.ThrowIfCancellationRequested();
        using var conn = _db.Connect();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT acked_sequence FROM consumers WHERE name = $name;";
        cmd.Parameters.AddWithValue("$name", consumer);
        return Task.FromResult(cmd.ExecuteScalar() is long v ? v : 0L);
    }

    public IReadOnlyList<(string Consumer, long Acked, DateTimeOffset AckedAt)> Consumers()
    {
        using var conn = _db.Connect();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT name, acked_sequence, acked_at_ms FROM consumers ORDER BY name;";
        var list = new List<(string, long, DateTimeOffset)>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) list.Add((r.GetString(0), r.GetInt64(1), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2))));
        return list;
    }

    private static void ValidateConsumer(string consumer)
    {
        if (string.IsNullOrWhiteSpace(consumer) || consumer.Length > 128 || consumer.Any(char.IsControl))
            throw new ArgumentException("a consumer name is 1 to 128 characters, no control characters", nameof(consumer));
    }

    /// <summary>Ends every follower with <see cref="ObjectDisposedException"/>.</summary>
    public void Close() => _follow.Close();
}
