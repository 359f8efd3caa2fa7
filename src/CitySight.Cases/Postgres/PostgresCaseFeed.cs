using CitySight.Cases.Sqlite;
using CitySight.Domain;
using Npgsql;
using NpgsqlTypes;

namespace CitySight.Cases.Postgres;

/// <summary>
/// The outbox in PostgreSQL, shared by every node: the append-only <c>feed</c> table (every commit that changes a case
/// appends its event in the same transaction), followers that replay then follow it, and the cursors of the consumers
/// (<see cref="PostgresAckWriter"/>). Followers on any node hear every node's commits: each commit NOTIFYs, one
/// dedicated LISTEN connection per store wakes this node's followers, and a slow poll of the head covers the time that
/// connection is down (<see cref="PostgresFeedListener"/>).
/// </summary>
internal sealed class PostgresCaseFeed : IAsyncDisposable
{
    /// <summary>The NOTIFY channel of new feed events; the payload is the event's sequence.</summary>
    public const string Channel = "citysight_feed";

    private const int FeedReader = 0;
    private const int EventReader = 1;

    private readonly PostgresDatabase _db;
    private readonly FeedFollowing _follow;
    private readonly PostgresAckWriter _acks;
    private readonly PostgresFeedListener _listener;

    public PostgresCaseFeed(PostgresDatabase db, long head, Microsoft.Extensions.Logging.ILogger? logger)
    {
        _db = db;
        _follow = new FeedFollowing(head, nameof(PostgresCaseStore), db.ThrowIfDisposed);
        _acks = new PostgresAckWriter(db);
        _listener = new PostgresFeedListener(db, Seen, logger);
    }

    /// <summary>The newest sequence this node knows to be committed (its own commits, NOTIFY, the poll).</summary>
    public long LastSequence => _follow.Head;

    public long AckCommits => _acks.Commits;

    public long StoreReads => _follow.StoreReads;

    /// <summary>Times the LISTEN connection was (re)established.</summary>
    public long ListenSessions => _listener.Sessions;

    /// <summary>
    /// Appends one event inside <paramref name="tx"/> and returns its sequence; with <paramref name="caseSequence"/> the
    /// case row takes it as its own (a new case). Call <see cref="Published"/> after the commit.
    /// </summary>
    /// <remarks>
    /// Why the feed is gapless: the sequence is <c>feed_head.last + 1</c>, taken by an UPDATE of that single row, whose
    /// row lock the transaction holds until it commits or rolls back. A second appender (any node) waits on that lock,
    /// so sequence N+1 is handed out only once N's transaction has ended: committed (then N is visible before N+1 can
    /// be, as PostgreSQL makes a commit visible before it releases its locks) or rolled back (then the head's update is
    /// undone too, and N is handed out again). Sequence order is commit order, so a reader that sees N+1 sees every
    /// sequence below it, and "everything after my cursor" never skips an event committed late. (A SEQUENCE or
    /// identity column would not do: numbers are taken at insert time, commits land in any order, and a follower that
    /// read N+1 before N committed would step over N for good.) The price: appends are serialised across the cluster
    /// for the few statements between the head's update and the commit (its fsync); the case row and its pictures are
    /// written before the head is taken, outside that window.
    /// </remarks>
    public async Task<long> AppendAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CaseFeedKind kind, string caseId, bool caseSequence)
    {
        var setCase = caseSequence ? ", numbered AS (UPDATE cases SET sequence = (SELECT last FROM head) WHERE id = @id)" : "";
        await using var cmd = new NpgsqlCommand($"""
            WITH head AS (UPDATE feed_head SET last = last + 1 WHERE id = 1 RETURNING last),
                 appended AS (INSERT INTO feed (sequence, kind, case_id, recorded_at_ms, node_id)
                              SELECT last, @kind, @id, @now, @node FROM head RETURNING sequence){setCase}
            SELECT sequence, pg_notify('{Channel}', sequence::text) FROM appended;
            """, conn, tx);
        cmd.Parameters.AddWithValue("kind", (int)kind);
        cmd.Parameters.AddWithValue("id", caseId);
        cmd.Parameters.AddWithValue("now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("node", _db.NodeId);
        await using var r = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        if (!await r.ReadAsync().ConfigureAwait(false)) throw new InvalidDataException($"{_db.Name}: the feed's head row is missing");
        return r.GetInt64(0);
    }

    /// <summary>After the commit of an event on this node: moves the head and wakes this node's followers.</summary>
    public void Published(long sequence) => Seen(sequence);

    /// <summary>A sequence known committed (here, by NOTIFY or by the poll): the head moves forward only, then followers wake.</summary>
    private void Seen(long sequence) => _follow.Committed(sequence);

    public void Start() => _listener.Start();

    public IAsyncEnumerable<Case> FeedAsync(long afterSequence, bool includeEvidence, CancellationToken ct) =>
        FollowAsync(FeedReader, afterSequence, includeEvidence, after => ReadBatch(after, includeEvidence, events: false, static (c, _, _) => c),
            c => c.Sequence, ct);

    public IAsyncEnumerable<CaseFeedEvent> EventsAsync(long afterSequence, bool includeEvidence, CancellationToken ct) =>
        FollowAsync(EventReader, afterSequence, includeEvidence,
            after => ReadBatch(after, includeEvidence, events: true, static (c, seq, kind) => new CaseFeedEvent(seq, (CaseFeedKind)kind, c)),
            e => e.Sequence, ct);

    private IAsyncEnumerable<T> FollowAsync<T>(int reader, long afterSequence, bool includeEvidence, Func<long, List<T>> read,
        Func<T, long> sequenceOf, CancellationToken ct) =>
        _follow.FollowAsync(reader, afterSequence, includeEvidence, read, sequenceOf, ct);

    /// <summary>
    /// One batch after <paramref name="afterSequence"/>: new cases only, or every event. A state event carries the case
    /// as it is now, at least as new as the event. Gapless appends make what is visible a prefix of the feed.
    /// </summary>
    private List<T> ReadBatch<T>(long afterSequence, bool includeEvidence, bool events, Func<Case, long, int, T> make)
    {
        try
        {
            using var conn = _db.Open();
            var kinds = events
                ? $"{(int)CaseFeedKind.Opened}, {(int)CaseFeedKind.Updated}, {(int)CaseFeedKind.StateChanged}"
                : $"{(int)CaseFeedKind.Opened}";
            using var cmd = new NpgsqlCommand($"""
                SELECT {PostgresCaseRow.ColumnsWith(includeEvidence)}, f.sequence, f.kind
                FROM feed f JOIN cases c ON c.id = f.case_id {PostgresCaseRow.BestViewJoin(includeEvidence)}
                WHERE f.sequence > @after AND f.kind IN ({kinds})
                ORDER BY f.sequence LIMIT {FeedFollowing.BatchSize(includeEvidence)};
                """, conn);
            cmd.Parameters.AddWithValue("after", afterSequence);
            var list = new List<T>();
            using var r = cmd.ExecuteReader();
            while (r.Read())
                list.Add(make(PostgresCaseRow.Read(r), r.GetInt64(PostgresCaseRow.ColumnCount), r.GetInt32(PostgresCaseRow.ColumnCount + 1)));
            return list;
        }
        catch (Exception ex) when (PostgresDatabase.IsStorage(ex))
        {
            throw _db.AsIo(ex);
        }
    }

    /// <summary>Durable before it returns; coalesced with the other acks pending (see <see cref="PostgresAckWriter"/>).</summary>
    public Task<long> AckAsync(string consumer, long sequence, CancellationToken ct)
    {
        ValidateConsumer(consumer);
        _db.ThrowIfDisposed();
        if (sequence < 0)
            throw new ArgumentException($"sequence {sequence} is not in the feed (0..{LastSequence})", nameof(sequence));
        return _acks.AckAsync(consumer, sequence, ct);
    }

    public async Task<long> CursorAsync(string consumer, CancellationToken ct)
    {
        ValidateConsumer(consumer);
        try
        {
            await using var conn = await _db.OpenAsync(ct).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand("SELECT acked_sequence FROM consumers WHERE name = @name;", conn);
            cmd.Parameters.AddWithValue("name", NpgsqlDbType.Text, consumer);
            return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is long v ? v : 0L;
        }
        catch (Exception ex) when (PostgresDatabase.IsStorage(ex))
        {
            throw _db.AsIo(ex);
        }
    }

    public IReadOnlyList<(string Consumer, long Acked, DateTimeOffset AckedAt)> Consumers()
    {
        try
        {
            using var conn = _db.Open();
            using var cmd = new NpgsqlCommand("SELECT name, acked_sequence, acked_at_ms FROM consumers ORDER BY name COLLATE \"C\";", conn);
            var list = new List<(string, long, DateTimeOffset)>();
            using var r = cmd.ExecuteReader();
            while (r.Read()) list.Add((r.GetString(0), r.GetInt64(1), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2))));
            return list;
        }
        catch (Exception ex) when (PostgresDatabase.IsStorage(ex))
        {
            throw _db.AsIo(ex);
        }
    }

    private static void ValidateConsumer(string consumer)
    {
        if (string.IsNullOrWhiteSpace(consumer) || consumer.Length > 128 || consumer.Any(char.IsControl))
            throw new ArgumentException("a consumer name is 1 to 128 characters, no control characters", nameof(consumer));
    }

    /// <summary>Ends every follower with <see cref="ObjectDisposedException"/> and stops listening.</summary>
    public async ValueTask DisposeAsync()
    {
        _follow.Close();
        await _listener.DisposeAsync().ConfigureAwait(false);
    }
}
