using CitySight.Domain;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace CitySight.Cases.Sqlite;

/// <summary>
/// The embedded case store: one SQLite file (<c>&lt;data&gt;/citysight.db</c>, WAL, synchronous=FULL) plus the pictures
/// under <c>&lt;data&gt;/evidence/</c>. Every new case gets the next <see cref="Case.Sequence"/> from an append-only
/// feed table; delivery cursors refer to it, so "give me everything after N" keeps its meaning across restarts.
/// </summary>
/// <remarks>
/// Thread-safe: writes run one at a time on the store's writer thread (StoreWriter), reads use their own pooled connections (WAL lets them run
/// beside the writer). One process owns a data folder: followers are woken by in-process signals, so cases written by
/// another process would only be seen on the next local commit. The work is split by job: <see cref="SqliteSchema"/>
/// (tables, migrations), <see cref="CaseRow"/> (the row mapping), <see cref="SqliteCaseRecords"/> (cases),
/// <see cref="SqliteCaseFeed"/> (outbox and cursors), <see cref="SqliteEvidenceStore"/> and <see cref="EvidenceFiles"/>
/// (pictures and retention); this class opens them on one folder and answers for them.
/// </remarks>
public sealed class SqliteCaseStore : ICaseStore
{
    public const string DatabaseFileName = "citysight.db";
    public const string EvidenceFolderName = EvidenceFiles.FolderName;

    /// <summary>
    /// Updates (seen later, a better picture) are announced on the feed at most this often per case, on frame time:
    /// a parked car watched for an hour is 60 updates, not 1,800. A closure is announced at once whatever this says.
    /// </summary>
    public static readonly TimeSpan UpdateInterval = TimeSpan.FromMinutes(1);

    private readonly SqliteDatabase _db;
    private readonly SqliteCaseFeed _feed;
    private readonly SqliteCaseRecords _records;
    private readonly SqliteEvidenceStore _evidence;

    /// <summary>
    /// 64 MiB kept free on the data folder's file system by default: below it new cases' pictures are not written (the
    /// case waits with its raiser), so the database, whose commits of transitions, acks and closures are a few KB each,
    /// never meets a full disk first.
    /// </summary>
    public const long DefaultMinFreeBytes = 64L * 1024 * 1024;

    /// <param name="minFreeBytes">Free space kept for the database on the data folder's file system (see <see cref="DefaultMinFreeBytes"/>); 0: none.</param>
    /// <param name="logger">Where skipped pictures are warned about.</param>
    /// <exception cref="InvalidDataException">The database file is damaged (PRAGMA quick_check) or not a database: the message says what to do.</exception>
    public SqliteCaseStore(string dataFolder, long minFreeBytes = DefaultMinFreeBytes, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataFolder);
        DataFolder = Path.GetFullPath(dataFolder);
        DatabasePath = Path.Combine(DataFolder, DatabaseFileName);
        Directory.CreateDirectory(DataFolder);
        var files = new EvidenceFiles(DataFolder, minFreeBytes);
        EvidenceFolder = files.Folder;
        MinFreeBytes = files.MinFreeBytes;

        _db = new SqliteDatabase(DatabasePath);
        _feed = new SqliteCaseFeed(_db, files);
        _records = new SqliteCaseRecords(_db, _feed, files, logger);
        _evidence = new SqliteEvidenceStore(_db, files);
        WriterRaisedGauge.Set(_db.Writer.Raised ? 1 : 0);
        if (!_db.Writer.Raised && OperatingSystem.IsLinux())
            logger?.LogWarning("Case commits run at normal priority: Linux refused nice {Nice} for the store's writer thread. Under heavy " +
                "delivery load (thousands of streams, an ack flood) a commit then waits longer for a CPU; grant the service CAP_SYS_NICE " +
                "(systemd AmbientCapabilities=CAP_SYS_NICE or LimitNICE=-20; Kubernetes/Docker capability SYS_NICE). See README, Security.",
                WriterPriority.Nice);
    }

    private static readonly Gauge WriterRaisedGauge = Metrics.CreateGauge(
        "citysight_store_writer_priority_raised", "1 when the case store's writer thread runs at a raised priority (nice -20), so commits do not queue for a CPU behind delivery work.");

    /// <summary>Whether the OS favours the store's writer thread over ordinary threads (see README, Security).</summary>
    public bool WriterPriorityRaised => _db.Writer.Raised;

    /// <summary>When the newest new case became durable and on the feed (a Stopwatch timestamp).</summary>
    internal long LastOpenCommittedAt => _records.LastOpenCommittedAt;

    public string DataFolder { get; }
    public string DatabasePath { get; }
    public string EvidenceFolder { get; }
    /// <summary>Free space kept for the database: pictures that would leave less are not written.</summary>
    public long MinFreeBytes { get; }

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
        CancellationToken ct = default) => _records.UpdateSightingAsync(caseId, lastSeen, confidence, betterEvidence, ct);

    /// <inheritdoc/>
    public Task UpdateSightingAsync(string caseId, DateTimeOffset lastSeen, float confidence, byte[]? betterEvidence,
        byte[]? betterCrop, CancellationToken ct = default) =>
        _records.UpdateSightingAsync(caseId, lastSeen, confidence, betterEvidence, betterCrop, ct);

    /// <inheritdoc/>
    public Task<bool> CloseGoneAsync(string caseId, DateTimeOffset at, string note, CancellationToken ct = default) =>
        _records.CloseGoneAsync(caseId, at, note, ct);

    /// <inheritdoc/>
    public Task<Case> TransitionAsync(string caseId, CaseState to, DateTimeOffset at, string? note = null, CancellationToken ct = default) =>
        _records.TransitionAsync(caseId, to, at, note, ct);

    /// <inheritdoc/>
    public Task<Case?> GetAsync(string id, CancellationToken ct = default) => _records.GetAsync(id, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<Case>> OpenSinceAsync(DateTimeOffset lastSeenAfter, CancellationToken ct = default) =>
        _records.OpenSinceAsync(lastSeenAfter, ct);

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
    public long LastSequence => _feed.LastSequence;

    /// <inheritdoc/>
    public IAsyncEnumerable<CaseFeedEvent> EventsAsync(long afterSequence, bool includeEvidence, CancellationToken ct = default) =>
        _feed.EventsAsync(afterSequence, includeEvidence, ct);

    /// <inheritdoc/>
    public IAsyncEnumerable<Case> FeedAsync(long afterSequence, bool includeEvidence, CancellationToken ct = default) =>
        _feed.FeedAsync(afterSequence, includeEvidence, ct);

    /// <inheritdoc/>
    public IAsyncEnumerable<Case> FeedAsync(long afterSequence, CancellationToken ct = default) => _feed.FeedAsync(afterSequence, ct);

    /// <inheritdoc/>
    public Task<long> AckAsync(string consumer, long sequence, CancellationToken ct = default) => _feed.AckAsync(consumer, sequence, ct);

    /// <inheritdoc/>
    public Task<long> CursorAsync(string consumer, CancellationToken ct = default) => _feed.CursorAsync(consumer, ct);

    /// <inheritdoc/>
    public IReadOnlyList<(string Consumer, long Acked, DateTimeOffset AckedAt)> Consumers() => _feed.Consumers();

    /// <summary>Transactions that wrote consumer cursors so far: acks are coalesced, so far fewer than the acks.</summary>
    internal long AckCommits => _feed.AckCommits;

    /// <summary>Feed batches read from the database so far: followers at the same position share one read.</summary>
    internal long FeedStoreReads => _feed.StoreReads;

    // Evidence

    /// <inheritdoc/>
    public Task<byte[]?> GetEvidenceAsync(string id, CancellationToken ct = default) => _evidence.GetEvidenceAsync(id, ct);

    /// <inheritdoc/>
    public Task<byte[]?> GetEvidenceAsync(string id, EvidenceView view, CancellationToken ct = default) =>
        _evidence.GetEvidenceAsync(id, view, ct);

    /// <inheritdoc/>
    public Task<EvidencePruning> PruneEvidenceAsync(DateTimeOffset closedBefore, long maxBytes, CancellationToken ct = default) =>
        _evidence.PruneEvidenceAsync(closedBefore, maxBytes, ct);

    public void Dispose()
    {
        if (!_db.TryClose()) return;
        _feed.Close(); // followers end with ObjectDisposedException
        _db.Writer.Dispose(); // queued writes fail on the closed database; none runs after this
        _db.ReleaseFile();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
