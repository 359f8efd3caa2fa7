using CitySight.Domain;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CitySight.Cases.Postgres;

/// <summary>
/// The case store of a cluster: N CitySight nodes share ONE PostgreSQL database and ONE case feed. Each node opens its
/// own instance on the same connection string; cases, their pictures (bytea rows), the feed and the consumers' cursors
/// are in the database, so a consumer may follow or ack on any node and resume on another.
/// </summary>
/// <remarks>
/// The work is split by job, as for SQLite: <see cref="PostgresSchema"/> (tables, migrations under an advisory lock),
/// <see cref="PostgresCaseRow"/> (the row mapping), <see cref="PostgresCaseRecords"/> (cases),
/// <see cref="PostgresCaseQueries"/> (the console's reads), <see cref="PostgresCaseFeed"/> (the gapless outbox and its
/// followers), <see cref="PostgresFeedListener"/> (LISTEN/NOTIFY and the poll), <see cref="PostgresAckWriter"/>
/// (coalesced cursors) and <see cref="PostgresEvidenceStore"/> (pictures and retention). The connection string never
/// appears in a log or an exception: the store is named by host, port and database.
/// </remarks>
public sealed class PostgresCaseStore : ICaseStore
{
    /// <summary>Updates are announced on the feed at most this often per case, on frame time (as SQLite's).</summary>
    public static TimeSpan UpdateInterval => Sqlite.SqliteCaseStore.UpdateInterval;

    private readonly PostgresDatabase _db;
    private readonly PostgresCaseFeed _feed;
    private readonly PostgresCaseRecords _records;
    private readonly PostgresEvidenceStore _evidence;

    /// <param name="connectionString">An Npgsql connection string; the same on every node of the cluster.</param>
    /// <param name="nodeId">This node's name (feed rows, the LISTEN connection's application_name, messages).</param>
    /// <param name="samePlace">One case per place across nodes, decided in the database (<see cref="SamePlace"/>); null: no join.</param>
    /// <exception cref="IOException">The server cannot be reached or the schema cannot be made (the message names the store, not the string).</exception>
    public PostgresCaseStore(string connectionString, string nodeId, ILogger? logger = null, SamePlace? samePlace = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nodeId);
        _db = new PostgresDatabase(connectionString, nodeId);
        long head;
        try
        {
            using var conn = _db.Open();
            PostgresSchema.CreateOrMigrate(conn);
            using var cmd = new NpgsqlCommand("SELECT last FROM feed_head WHERE id = 1;", conn);
            head = Convert.ToInt64(cmd.ExecuteScalar());
        }
        catch (Exception ex)
        {
            _db.Dispose();
            if (PostgresDatabase.IsStorage(ex)) throw _db.AsIo(ex);
            throw;
        }
        _feed = new PostgresCaseFeed(_db, head, logger);
        _records = new PostgresCaseRecords(_db, _feed, samePlace);
        _evidence = new PostgresEvidenceStore(_db);
        _feed.Start();
    }

    /// <summary>The store as messages name it: host, port and database.</summary>
    public string Name => _db.Name;

    public string NodeId => _db.NodeId;

    /// <summary>Times this node's LISTEN connection was established (more than 1 after it dropped and came back).</summary>
    internal long ListenSessions => _feed.ListenSessions;

    internal long AckCommits => _feed.AckCommits;

    internal long FeedStoreReads => _feed.StoreReads;

    // Cases

    /// <inheritdoc/>
    public event Action<CaseFeedEvent>? StateChanged
    {
        add => _records.StateChanged += value;
        remove => _records.StateChanged -= value;
    }

    /// <inheritdoc/>
    public Task<Case> OpenAsync(Case c, CancellationToken ct = default) => _records.OpenAsync(c, ct);

    /// <inheritdoc/>
    public Task UpdateSightingAsync(string caseId, DateTimeOffset lastSeen, float confidence, byte[]? betterEvidence,
        CancellationToken ct = default) => _records.UpdateSightingAsync(caseId, lastSeen, confidence, betterEvidence, null, ct);

    /// <inheritdoc/>
    public Task UpdateSightingAsync(string caseId, DateTimeOffset lastSeen, float confidence, byte[]? betterEvidence,
        byte[]? betterCrop, CancellationToken ct = default) =>
        _records.UpdateSightingAsync(caseId, lastSeen, confidence, betterEvidence, betterCrop, ct);

    /// <inheritdoc/>
    public Task<bool> CloseGoneAsync(string caseId, DateTimeOffset at, string note, CancellationToken ct = default) =>
        _records.CloseGoneAsync(caseId, at, note, ct);

    /// <inheritdoc/>
    public Task<Case> TransitionAsync(string caseId, CaseState to, DateTimeOffset at, string? note = null, CancellationToken ct = default) =>
        _records.TransitionAsync(caseId, to, at, note, closedGone: false, ct);

    /// <inheritdoc/>
    public Task<Case?> GetAsync(string id, CancellationToken ct = default) => _records.GetAsync(id, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<Case>> OpenSinceAsync(DateTimeOffset lastSeenAfter, CancellationToken ct = default) =>
        _records.CasesSinceAsync(lastSeenAfter, includeFinal: false, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<Case>> CasesSinceAsync(DateTimeOffset lastSeenAfter, bool includeFinal, CancellationToken ct = default) =>
        _records.CasesSinceAsync(lastSeenAfter, includeFinal, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<Case>> NewestAsync(CaseQuery query, CancellationToken ct = default) => _records.NewestAsync(query, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<CaseCount>> CountAsync(IReadOnlySet<CaseState>? states, DateTimeOffset? reportedFrom, CancellationToken ct = default) =>
        _records.CountAsync(states, reportedFrom, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<CaseDecision>> DecidedAsync(DateTimeOffset closedFrom, CancellationToken ct = default) =>
        _records.DecidedAsync(closedFrom, ct);

    // Feed and cursors

    /// <inheritdoc/>
    /// <remarks>The newest sequence this node knows committed (its own commits, NOTIFY from the others, the poll).</remarks>
    public long LastSequence => _feed.LastSequence;

    /// <inheritdoc/>
    public IAsyncEnumerable<CaseFeedEvent> EventsAsync(long afterSequence, bool includeEvidence, CancellationToken ct = default) =>
        _feed.EventsAsync(afterSequence, includeEvidence, ct);

    /// <inheritdoc/>
    public IAsyncEnumerable<Case> FeedAsync(long afterSequence, bool includeEvidence, CancellationToken ct = default) =>
        _feed.FeedAsync(afterSequence, includeEvidence, ct);

    /// <inheritdoc/>
    public IAsyncEnumerable<Case> FeedAsync(long afterSequence, CancellationToken ct = default) =>
        _feed.FeedAsync(afterSequence, includeEvidence: true, ct);

    /// <inheritdoc/>
    public Task<long> AckAsync(string consumer, long sequence, CancellationToken ct = default) => _feed.AckAsync(consumer, sequence, ct);

    /// <inheritdoc/>
    public Task<long> CursorAsync(string consumer, CancellationToken ct = default) => _feed.CursorAsync(consumer, ct);

    /// <inheritdoc/>
    public IReadOnlyList<(string Consumer, long Acked, DateTimeOffset AckedAt)> Consumers() => _feed.Consumers();

    // Evidence

    /// <inheritdoc/>
    public Task<byte[]?> GetEvidenceAsync(string id, CancellationToken ct = default) => _evidence.GetEvidenceAsync(id, ct);

    /// <inheritdoc/>
    public Task<byte[]?> GetEvidenceAsync(string id, EvidenceView view, CancellationToken ct = default) =>
        _evidence.GetEvidenceAsync(id, view, ct);

    /// <inheritdoc/>
    public Task<EvidencePruning> PruneEvidenceAsync(DateTimeOffset closedBefore, long maxBytes, CancellationToken ct = default) =>
        _evidence.PruneEvidenceAsync(closedBefore, maxBytes, ct);

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (!_db.TryClose()) return;
        await _feed.DisposeAsync().ConfigureAwait(false); // followers end with ObjectDisposedException; LISTEN and the poll stop
        _db.Dispose();
    }
}
