using System.Runtime.CompilerServices;
using CitySight.Domain;
using Microsoft.Data.Sqlite;
using Prometheus;

namespace CitySight.Cases;

/// <summary>
/// The durable store of candidate cases: one SQLite file (<c>&lt;data&gt;/citysight.db</c>, WAL) plus one JPEG per case
/// under <c>&lt;data&gt;/evidence/</c>.
/// Every new case gets the next <see cref="Case.Sequence"/> from an append-only feed table; delivery cursors refer to it,
/// so "give me everything after N" keeps its meaning across restarts.
/// </summary>
/// <remarks>
/// Thread-safe: writes are serialised by an in-process lock, reads use their own pooled connections (WAL lets them run
/// beside the writer). One process owns a data folder: followers are woken by in-process signals, so cases written by
/// another process would only be seen on the next local commit.
/// </remarks>
public sealed class CaseStore : ICaseSink, IDisposable
{
    public const string DatabaseFileName = "citysight.db";
    public const string EvidenceFolderName = "evidence";

    /// <summary>Feed rows read per query; a follower never holds a read transaction open while its consumer is busy.</summary>
    private const int FeedBatchSize = 256;

    /// <summary>
    /// Updates (seen later, a better picture) are announced on the feed at most this often per case, on frame time:
    /// a parked car watched for an hour is 60 updates, not 1,800. A closure is announced at once whatever this says.
    /// </summary>
    public static readonly TimeSpan UpdateInterval = TimeSpan.FromMinutes(1);

    /// <summary>
    /// With pictures, fewer per query: what one follower holds while its consumer is slow is one batch (plus the
    /// transport's window), so 16 × a few hundred KB, not 256 ×.
    /// </summary>
    private const int EvidenceBatchSize = 16;

    private static int BatchSize(bool includeEvidence) => includeEvidence ? EvidenceBatchSize : FeedBatchSize;

    private const int KindOpened = (int)CaseFeedKind.Opened;
    private const int KindStateChanged = (int)CaseFeedKind.StateChanged;
    private const int KindUpdated = (int)CaseFeedKind.Updated;

    private static readonly Counter CasesTotal = Metrics.CreateCounter(
        "citysight_cases_total", "Candidate cases opened (committed new cases), by case type.",
        new CounterConfiguration { LabelNames = ["case_type"] });

    private static readonly Gauge FeedFollowers = Metrics.CreateGauge(
        "citysight_case_feed_followers", "Case feed readers currently following the store.");

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _closing = new();

    // Broadcast "something was committed": swapped for a fresh one on every commit and the old one completed.
    // A follower takes the current one BEFORE it queries, so a commit racing with its query still wakes it.
    private TaskCompletionSource _committed = NewSignal();
    private long _head;
    private int _disposed;

    public CaseStore(string dataFolder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataFolder);
        DataFolder = Path.GetFullPath(dataFolder);
        DatabasePath = Path.Combine(DataFolder, DatabaseFileName);
        EvidenceFolder = Path.Combine(DataFolder, EvidenceFolderName);
        Directory.CreateDirectory(DataFolder);
        Directory.CreateDirectory(EvidenceFolder);

        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            // Microsoft.Data.Sqlite retries SQLITE_BUSY up to this many seconds (e.g. during a WAL checkpoint).
            DefaultTimeout = 30,
        }.ToString();

        using var conn = Connect();
        Execute(conn, "PRAGMA journal_mode=WAL;");
        Execute(conn, Schema);
        Migrate(conn);
        _head = Scalar<long>(conn, "SELECT COALESCE(MAX(sequence), 0) FROM feed;");
    }

    public string DataFolder { get; }
    public string DatabasePath { get; }
    public string EvidenceFolder { get; }

    /// <summary>
    /// Raised after a state change is committed, on the caller's thread and still inside the store's write lock: lets the
    /// rules stage hear dispatch's closures and rejections at once. Handlers must only hand the event on (enqueue), never
    /// call back into the store, and must not throw.
    /// </summary>
    public event Action<CaseFeedEvent>? StateChanged;

    /// <summary>The highest sequence committed so far (0 when the store is empty).</summary>
    public long LastSequence => Volatile.Read(ref _head);

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS cases (
            id                  TEXT PRIMARY KEY,
            sequence            INTEGER UNIQUE,
            case_type           TEXT NOT NULL,
            camera_id           TEXT NOT NULL,
            group_id            TEXT NOT NULL,
            case_type_code      TEXT NOT NULL,
            case_type_name_zh   TEXT NOT NULL,
            case_type_name_en   TEXT NOT NULL,
            district            TEXT NOT NULL,
            street              TEXT NOT NULL,
            grid                TEXT NOT NULL,
            responsible_unit    TEXT NOT NULL,
            zone                TEXT NOT NULL,
            latitude            REAL NOT NULL,
            longitude           REAL NOT NULL,
            first_seen_ticks    INTEGER NOT NULL,  -- UTC ticks: sortable and exact
            first_seen_offset   INTEGER NOT NULL,  -- minutes, to give back the offset the case was raised with
            last_seen_ticks     INTEGER NOT NULL,
            last_seen_offset    INTEGER NOT NULL,
            confidence          REAL NOT NULL,
            box_x1 REAL NOT NULL, box_y1 REAL NOT NULL, box_x2 REAL NOT NULL, box_y2 REAL NOT NULL,
            image_width         INTEGER NOT NULL,
            image_height        INTEGER NOT NULL,
            class_name          TEXT NOT NULL,
            evidence_path       TEXT,              -- relative to the data folder; NULL when the case has no evidence
            opened_at_ms        INTEGER NOT NULL,  -- wall clock of the commit, for operations
            updated_at_ms       INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS cases_last_seen ON cases(last_seen_ticks);
        -- Append-only outbox. AUTOINCREMENT: a sequence is never reused, even if rows are ever pruned.
        CREATE TABLE IF NOT EXISTS feed (
            sequence        INTEGER PRIMARY KEY AUTOINCREMENT,
            kind            INTEGER NOT NULL,      -- 1 = opened (later: updated, closed...)
            case_id         TEXT NOT NULL REFERENCES cases(id),
            recorded_at_ms  INTEGER NOT NULL
        );
        """;

    /// <summary>Schema changes after version 1, applied in order to a store made by an older build.</summary>
    private static readonly string[] Migrations =
    [
        // 2: case lifecycle. Existing cases were reported when they were committed.
        """
        ALTER TABLE cases ADD COLUMN state INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE cases ADD COLUMN acknowledged_at_ms INTEGER;
        ALTER TABLE cases ADD COLUMN closed_at_ms INTEGER;
        ALTER TABLE cases ADD COLUMN state_note TEXT NOT NULL DEFAULT '';
        """,
        // 3: the frame time the rules raised the case (NULL for cases stored before: read as first seen).
        """
        ALTER TABLE cases ADD COLUMN raised_ticks INTEGER;
        ALTER TABLE cases ADD COLUMN raised_offset INTEGER;
        """,
        // 4: each consumer's acknowledged position in the feed (at-least-once delivery resumes after it).
        """
        CREATE TABLE consumers (
            name            TEXT PRIMARY KEY,
            acked_sequence  INTEGER NOT NULL,
            acked_at_ms     INTEGER NOT NULL
        );
        """,
        // 5: the last sighting announced on the feed, so updates go out at a steady pace, not with every frame.
        """
        ALTER TABLE cases ADD COLUMN announced_seen_ticks INTEGER;
        """,
    ];

    private static void Migrate(SqliteConnection conn)
    {
        var version = Scalar<long>(conn, "PRAGMA user_version;");
        if (version == 0) version = 1; // made by the CREATE above or by the first build
        for (var v = version; v <= Migrations.Length; v++)
        {
            using var tx = conn.BeginTransaction();
            using (var cmd = conn.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = Migrations[v - 1] + $"PRAGMA user_version = {v + 1};";
                cmd.ExecuteNonQuery();
            }
            tx.Commit();
        }
    }

    private const string CaseColumns = """
        c.id, c.sequence, c.case_type, c.camera_id, c.group_id, c.case_type_code, c.case_type_name_zh, c.case_type_name_en,
        c.district, c.street, c.grid, c.responsible_unit, c.zone, c.latitude, c.longitude,
        c.first_seen_ticks, c.first_seen_offset, c.last_seen_ticks, c.last_seen_offset, c.confidence,
        c.box_x1, c.box_y1, c.box_x2, c.box_y2, c.image_width, c.image_height, c.class_name, c.evidence_path,
        c.state, c.opened_at_ms, c.acknowledged_at_ms, c.closed_at_ms, c.state_note, c.raised_ticks, c.raised_offset
        """;

    /// <summary>
    /// Commits a new case and gives it the next sequence. The evidence file and the row are on disk (fsync) before
    /// this returns and before any follower is woken. Idempotent on <see cref="Case.Id"/>: an id already stored
    /// returns the stored case unchanged and adds nothing to the feed. <see cref="Case.Sequence"/> on the input is ignored.
    /// </summary>
    public async Task<Case> OpenAsync(Case c, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(c);
        ValidateId(c.Id);
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // Past this point the token is not honoured: a commit is never left half-done.
            using var conn = Connect();
            if (ReadCase(conn, c.Id, includeEvidence: true) is { } existing) return existing;

            string? evidencePath = null;
            if (c.Evidence is { Length: > 0 })
            {
                // Evidence first: a crash before the commit leaves only an orphan file, which the retry overwrites.
                WriteEvidenceDurably(c.Id, c.Evidence);
                evidencePath = RelativeEvidencePath(c.Id);
            }
            if (c.EvidenceCrop is { Length: > 0 }) WriteEvidenceDurably(c.Id, c.EvidenceCrop, EvidenceView.BestCrop);

            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            long sequence;
            using (var tx = conn.BeginTransaction()) // BEGIN IMMEDIATE
            {
                using (var insert = conn.CreateCommand())
                {
                    insert.Transaction = tx;
                    insert.CommandText = """
                        INSERT INTO cases (id, case_type, camera_id, group_id, case_type_code, case_type_name_zh, case_type_name_en,
                            district, street, grid, responsible_unit, zone, latitude, longitude,
                            first_seen_ticks, first_seen_offset, last_seen_ticks, last_seen_offset, confidence,
                            box_x1, box_y1, box_x2, box_y2, image_width, image_height, class_name, evidence_path,
                            opened_at_ms, updated_at_ms, raised_ticks, raised_offset)
                        VALUES ($id, $case_type, $camera_id, $group_id, $code, $name_zh, $name_en,
                            $district, $street, $grid, $unit, $zone, $lat, $lon,
                            $fs_ticks, $fs_offset, $ls_ticks, $ls_offset, $confidence,
                            $x1, $y1, $x2, $y2, $w, $h, $class_name, $evidence_path,
                            $now, $now, $r_ticks, $r_offset);
                        """;
                    var p = insert.Parameters;
                    p.AddWithValue("$id", c.Id);
                    p.AddWithValue("$case_type", c.CaseType ?? "");
                    p.AddWithValue("$camera_id", c.CameraId ?? "");
                    p.AddWithValue("$group_id", c.GroupId ?? "");
                    p.AddWithValue("$code", c.CaseTypeCode ?? "");
                    p.AddWithValue("$name_zh", c.CaseTypeNameZh ?? "");
                    p.AddWithValue("$name_en", c.CaseTypeNameEn ?? "");
                    p.AddWithValue("$district", c.District ?? "");
                    p.AddWithValue("$street", c.Street ?? "");
                    p.AddWithValue("$grid", c.Grid ?? "");
                    p.AddWithValue("$unit", c.ResponsibleUnit ?? "");
                    p.AddWithValue("$zone", c.Zone ?? "");
                    p.AddWithValue("$lat", c.Latitude);
                    p.AddWithValue("$lon", c.Longitude);
                    p.AddWithValue("$fs_ticks", c.FirstSeen.UtcTicks);
                    p.AddWithValue("$fs_offset", (long)c.FirstSeen.Offset.TotalMinutes);
                    p.AddWithValue("$ls_ticks", c.LastSeen.UtcTicks);
                    p.AddWithValue("$ls_offset", (long)c.LastSeen.Offset.TotalMinutes);
                    p.AddWithValue("$confidence", (double)c.Confidence);
                    p.AddWithValue("$x1", (double)c.Box.X1);
                    p.AddWithValue("$y1", (double)c.Box.Y1);
                    p.AddWithValue("$x2", (double)c.Box.X2);
                    p.AddWithValue("$y2", (double)c.Box.Y2);
                    p.AddWithValue("$w", c.ImageWidth);
                    p.AddWithValue("$h", c.ImageHeight);
                    p.AddWithValue("$class_name", c.ClassName ?? "");
                    p.AddWithValue("$evidence_path", (object?)evidencePath ?? DBNull.Value);
                    p.AddWithValue("$now", now);
                    p.AddWithValue("$r_ticks", c.RaisedAt is { } raised ? raised.UtcTicks : (object)DBNull.Value);
                    p.AddWithValue("$r_offset", c.RaisedAt is { } ro ? (long)ro.Offset.TotalMinutes : (object)DBNull.Value);
                    insert.ExecuteNonQuery();
                }

                sequence = AppendEvent(conn, tx, KindOpened, c.Id, now);

                using (var seq = conn.CreateCommand())
                {
                    seq.Transaction = tx;
                    seq.CommandText = "UPDATE cases SET sequence = $seq WHERE id = $id;";
                    seq.Parameters.AddWithValue("$seq", sequence);
                    seq.Parameters.AddWithValue("$id", c.Id);
                    seq.ExecuteNonQuery();
                }

                tx.Commit(); // synchronous=FULL: durable once this returns
            }

            CasesTotal.WithLabels(c.CaseType ?? "").Inc();
            Volatile.Write(ref _head, sequence);
            Signal();
            // A new case is always stored as reported: the lifecycle moves on only through TransitionAsync.
            return c with
            {
                Sequence = sequence, State = CaseState.Reported, ReportedAt = DateTimeOffset.FromUnixTimeMilliseconds(now),
                AcknowledgedAt = null, ClosedAt = null, StateNote = "",
            };
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Records a later sighting of an open case: last seen moves forward (never back), confidence rises to
    /// <paramref name="confidence"/> when higher, and the evidence file is replaced when <paramref name="betterEvidence"/>
    /// is given (the caller decides what is better). When it is seen later or gets a better picture, the change is a
    /// feed event (<see cref="CaseFeedKind.Updated"/>) committed with it, at most once per <see cref="UpdateInterval"/>
    /// of frame time per case.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No case has this id.</exception>
    public Task UpdateSightingAsync(string caseId, DateTimeOffset lastSeen, float confidence, byte[]? betterEvidence,
        CancellationToken ct = default) => UpdateSightingAsync(caseId, lastSeen, confidence, betterEvidence, null, ct);

    /// <summary>
    /// As above, with the crop of the better view. The first better view moves the case's original pictures aside as
    /// its first view (<see cref="EvidenceView.First"/>, <see cref="EvidenceView.FirstCrop"/>): a case keeps the first
    /// and the best.
    /// </summary>
    public async Task UpdateSightingAsync(string caseId, DateTimeOffset lastSeen, float confidence, byte[]? betterEvidence,
        byte[]? betterCrop, CancellationToken ct = default)
    {
        ValidateId(caseId);
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var conn = Connect();
            long storedLastSeen, announced;
            double storedConfidence;
            using (var read = conn.CreateCommand())
            {
                read.CommandText = """
                    SELECT last_seen_ticks, confidence, COALESCE(announced_seen_ticks, raised_ticks, first_seen_ticks)
                    FROM cases WHERE id = $id;
                    """;
                read.Parameters.AddWithValue("$id", caseId);
                using var r = read.ExecuteReader();
                if (!r.Read()) throw new KeyNotFoundException($"no case with id '{caseId}'");
                storedLastSeen = r.GetInt64(0);
                storedConfidence = r.GetDouble(1);
                announced = r.GetInt64(2);
            }

            string? evidencePath = null;
            if (betterEvidence is { Length: > 0 })
            {
                KeepFirstView(caseId);
                // Replaced by rename: a reader gets either the old or the new JPEG, never a torn one.
                WriteEvidenceDurably(caseId, betterEvidence);
                evidencePath = RelativeEvidencePath(caseId);
                if (betterCrop is { Length: > 0 }) WriteEvidenceDurably(caseId, betterCrop, EvidenceView.BestCrop);
            }

            var later = lastSeen.UtcTicks > storedLastSeen;
            // Something a consumer should hear about (seen later, a better picture) is a feed event, committed with it,
            // at most once per UpdateInterval of frame time: the row always holds the newest, the feed says so steadily.
            var newest = Math.Max(storedLastSeen, lastSeen.UtcTicks);
            var announce = (later || evidencePath is not null) && newest - announced >= UpdateInterval.Ticks;
            using var update = conn.CreateCommand();
            update.CommandText = """
                UPDATE cases SET
                    last_seen_ticks      = CASE WHEN $later THEN $ls_ticks ELSE last_seen_ticks END,
                    last_seen_offset     = CASE WHEN $later THEN $ls_offset ELSE last_seen_offset END,
                    confidence           = $confidence,  -- already the max of stored and new
                    evidence_path        = COALESCE($evidence_path, evidence_path),
                    announced_seen_ticks = CASE WHEN $announce THEN $newest ELSE announced_seen_ticks END,
                    updated_at_ms        = $now
                WHERE id = $id;
                """;
            update.Parameters.AddWithValue("$later", later);
            update.Parameters.AddWithValue("$ls_ticks", lastSeen.UtcTicks);
            update.Parameters.AddWithValue("$ls_offset", (long)lastSeen.Offset.TotalMinutes);
            update.Parameters.AddWithValue("$confidence", Math.Max(storedConfidence, confidence));
            update.Parameters.AddWithValue("$evidence_path", (object?)evidencePath ?? DBNull.Value);
            update.Parameters.AddWithValue("$announce", announce);
            update.Parameters.AddWithValue("$newest", newest);
            update.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            update.Parameters.AddWithValue("$id", caseId);
            if (announce) CommitWithEvent(conn, update, KindUpdated, caseId);
            else update.ExecuteNonQuery();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc/>
    public async Task<bool> CloseGoneAsync(string caseId, DateTimeOffset at, string note, CancellationToken ct = default)
    {
        try
        {
            await TransitionAsync(caseId, CaseState.Closed, at, note, ct).ConfigureAwait(false);
            return true;
        }
        catch (InvalidCaseTransitionException)
        {
            return false;
        }
    }

    /// <summary>
    /// Moves a case along its lifecycle (dispatch's acknowledgement, closing or rejection). Saying the state it is
    /// already in changes nothing (dispatch may repeat itself); a backward or skipped step is refused.
    /// </summary>
    /// <returns>The case as stored afterwards.</returns>
    /// <exception cref="KeyNotFoundException">No case has this id.</exception>
    /// <exception cref="InvalidCaseTransitionException">The case cannot go from its state to <paramref name="to"/>.</exception>
    public async Task<Case> TransitionAsync(string caseId, CaseState to, DateTimeOffset at, string? note = null, CancellationToken ct = default)
    {
        ValidateId(caseId);
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var conn = Connect();
            var current = ReadCase(conn, caseId, includeEvidence: false) ?? throw new KeyNotFoundException($"no case with id '{caseId}'");
            if (current.State == to) return current;
            if (!current.State.CanMoveTo(to)) throw new InvalidCaseTransitionException(caseId, current.State, to);

            using var update = conn.CreateCommand();
            update.CommandText = """
                UPDATE cases SET
                    state              = $state,
                    acknowledged_at_ms = CASE WHEN $state = 2 THEN $at ELSE acknowledged_at_ms END,
                    closed_at_ms       = CASE WHEN $state IN (3, 4) THEN $at ELSE closed_at_ms END,
                    state_note         = $note,
                    updated_at_ms      = $now
                WHERE id = $id;
                """;
            update.Parameters.AddWithValue("$state", (int)to);
            update.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
            update.Parameters.AddWithValue("$note", note ?? "");
            update.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            update.Parameters.AddWithValue("$id", caseId);
            var sequence = CommitWithEvent(conn, update, KindStateChanged, caseId);
            var changed = ReadCase(conn, caseId, includeEvidence: false)!;
            StateChanged?.Invoke(new CaseFeedEvent(sequence, CaseFeedKind.StateChanged, changed));
            return changed;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Records that <paramref name="consumer"/> has processed every feed event up to <paramref name="sequence"/>, durably.
    /// Never moves a cursor back (an older or repeated ack changes nothing, so acks may arrive out of order or twice).
    /// </summary>
    /// <returns>The consumer's cursor afterwards.</returns>
    /// <exception cref="ArgumentException">Empty consumer name, or a sequence below 0 or beyond the newest event.</exception>
    public async Task<long> AckAsync(string consumer, long sequence, CancellationToken ct = default)
    {
        ValidateConsumer(consumer);
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // Checked under the write lock: a follower can read a row whose commit has not yet moved the head, and every
            // commit moves the head before it lets go of this lock.
            if (sequence < 0 || sequence > LastSequence)
                throw new ArgumentException($"sequence {sequence} is not in the feed (0..{LastSequence})", nameof(sequence));
            using var conn = Connect();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = """
                INSERT INTO consumers (name, acked_sequence, acked_at_ms) VALUES ($name, $seq, $now)
                ON CONFLICT(name) DO UPDATE SET acked_sequence = MAX(acked_sequence, excluded.acked_sequence),
                                                acked_at_ms = excluded.acked_at_ms
                RETURNING acked_sequence;
                """;
            cmd.Parameters.AddWithValue("$name", consumer);
            cmd.Parameters.AddWithValue("$seq", sequence);
            cmd.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            return Convert.ToInt64(cmd.ExecuteScalar());
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The last sequence <paramref name="consumer"/> acknowledged; 0 for a consumer never seen.</summary>
    public Task<long> CursorAsync(string consumer, CancellationToken ct = default)
    {
        ValidateConsumer(consumer);
        ct.ThrowIfCancellationRequested();
        using var conn = Connect();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT acked_sequence FROM consumers WHERE name = $name;";
        cmd.Parameters.AddWithValue("$name", consumer);
        return Task.FromResult(cmd.ExecuteScalar() is long v ? v : 0L);
    }

    /// <summary>Every consumer with its cursor (for metrics and the admin view).</summary>
    public IReadOnlyList<(string Consumer, long Acked, DateTimeOffset AckedAt)> Consumers()
    {
        using var conn = Connect();
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

    /// <summary>
    /// Evidence retention. Deletes every picture of cases closed or rejected before <paramref name="closedBefore"/>; then,
    /// while the evidence folder holds more than <paramref name="maxBytes"/>, the pictures of the longest-closed cases
    /// and then the first views of the oldest open cases. The best view of a case still open is never deleted: it is
    /// the proof dispatch is acting on. The case rows stay.
    /// </summary>
    public async Task<EvidencePruning> PruneEvidenceAsync(DateTimeOffset closedBefore, long maxBytes, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var conn = Connect();
            var total = Directory.EnumerateFiles(EvidenceFolder, "*.jpg").Sum(f => new FileInfo(f).Length);
            var before = total;
            var cases = 0;

            var final = Ids(conn, "SELECT id, closed_at_ms FROM cases WHERE state IN (3, 4) ORDER BY closed_at_ms, id;");
            foreach (var (id, closedAtMs) in final)
            {
                if (closedAtMs >= closedBefore.ToUnixTimeMilliseconds() && total <= maxBytes) break;
                var freed = Delete(id, EvidenceView.Best, EvidenceView.BestCrop, EvidenceView.First, EvidenceView.FirstCrop);
                if (freed == 0) continue;
                total -= freed;
                cases++;
                using var clear = conn.CreateCommand();
                clear.CommandText = "UPDATE cases SET evidence_path = NULL WHERE id = $id;";
                clear.Parameters.AddWithValue("$id", id);
                clear.ExecuteNonQuery();
            }
            if (total > maxBytes)
            {
                foreach (var (id, _) in Ids(conn, "SELECT id, last_seen_ticks FROM cases WHERE state IN (1, 2) ORDER BY last_seen_ticks, id;"))
                {
                    if (total <= maxBytes) break;
                    var freed = Delete(id, EvidenceView.First, EvidenceView.FirstCrop);
                    if (freed == 0) continue;
                    total -= freed;
                    cases++;
                }
            }
            if (before != total) DurableDirectory.Sync(EvidenceFolder);
            return new EvidencePruning(cases, before - total, total);
        }
        finally
        {
            _writeLock.Release();
        }

        static List<(string Id, long Key)> Ids(SqliteConnection conn, string sql)
        {
            using var cmd = conn.CreateCommand();
            cmd.CommandText = sql;
            using var r = cmd.ExecuteReader();
            var list = new List<(string, long)>();
            while (r.Read()) list.Add((r.GetString(0), r.IsDBNull(1) ? 0 : r.GetInt64(1)));
            return list;
        }

        long Delete(string id, params EvidenceView[] views)
        {
            long freed = 0;
            foreach (var view in views)
            {
                var file = new FileInfo(Path.Combine(DataFolder, RelativeEvidencePath(id, view)));
                if (!file.Exists) continue;
                freed += file.Length;
                file.Delete();
            }
            return freed;
        }
    }

    /// <summary>The stored case with its evidence, or null.</summary>
    public Task<Case?> GetAsync(string id, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        using var conn = Connect();
        return Task.FromResult(ReadCase(conn, id, includeEvidence: true));
    }

    /// <summary>The case's evidence JPEG, or null when the id is unknown or the case has no evidence.</summary>
    public async Task<byte[]?> GetEvidenceAsync(string id, CancellationToken ct = default) =>
        await GetEvidenceAsync(id, EvidenceView.Best, ct).ConfigureAwait(false);

    /// <summary>One of the case's pictures, or null when the id is unknown or that picture does not exist (or was pruned).</summary>
    public async Task<byte[]?> GetEvidenceAsync(string id, EvidenceView view, CancellationToken ct = default)
    {
        if (view != EvidenceView.Best)
        {
            ValidateId(id);
            try
            {
                return await File.ReadAllBytesAsync(Path.Combine(DataFolder, RelativeEvidencePath(id, view)), ct).ConfigureAwait(false);
            }
            catch (FileNotFoundException)
            {
                return null;
            }
        }
        string? relative;
        using (var conn = Connect())
        using (var cmd = conn.CreateCommand())
        {
            cmd.CommandText = "SELECT evidence_path FROM cases WHERE id = $id;";
            cmd.Parameters.AddWithValue("$id", id ?? "");
            relative = cmd.ExecuteScalar() as string; // null for no row and for a NULL column
        }
        if (relative is null) return null;
        try
        {
            // The path comes from our own row, never from the caller: no path traversal through the id.
            return await File.ReadAllBytesAsync(Path.Combine(DataFolder, relative), ct).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Open cases (reported or acknowledged) last seen strictly after <paramref name="lastSeenAfter"/>, in sequence
    /// order, without evidence (<see cref="Case.Evidence"/> is empty; use <see cref="GetEvidenceAsync"/>). Lets the
    /// rules stage re-seed its dedup memory after a restart.
    /// </summary>
    public Task<IReadOnlyList<Case>> OpenSinceAsync(DateTimeOffset lastSeenAfter, CancellationToken ct = default) =>
        CasesSinceAsync(lastSeenAfter, includeFinal: false, ct);

    /// <summary>
    /// Like <see cref="OpenSinceAsync"/>; with <paramref name="includeFinal"/>, closed and rejected cases too (a place
    /// cooling down after a close, an evaluation counting every case raised).
    /// </summary>
    public Task<IReadOnlyList<Case>> CasesSinceAsync(DateTimeOffset lastSeenAfter, bool includeFinal, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        using var conn = Connect();
        using var cmd = conn.CreateCommand();
        var states = includeFinal ? "" : " AND c.state IN (1, 2)";
        cmd.CommandText = $"SELECT {CaseColumns} FROM cases c WHERE c.last_seen_ticks > $after{states} ORDER BY c.sequence;";
        cmd.Parameters.AddWithValue("$after", lastSeenAfter.UtcTicks);
        var list = new List<Case>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) list.Add(ReadRow(r, includeEvidence: false));
        return Task.FromResult<IReadOnlyList<Case>>(list);
    }

    /// <inheritdoc cref="FeedAsync(long, bool, CancellationToken)"/>
    public IAsyncEnumerable<Case> FeedAsync(long afterSequence, CancellationToken ct = default) =>
        FeedAsync(afterSequence, includeEvidence: true, ct);

    /// <summary>
    /// Replays committed cases with <see cref="Case.Sequence"/> &gt; <paramref name="afterSequence"/> in order, then
    /// follows: yields each new case once it is committed, until <paramref name="ct"/> is cancelled
    /// (<see cref="OperationCanceledException"/>) or the store is disposed (<see cref="ObjectDisposedException"/>).
    /// A cursor beyond the end simply waits. Reads in batches on its own connections, so a slow consumer delays
    /// nobody else. With <paramref name="includeEvidence"/> false, <see cref="Case.Evidence"/> is left empty.
    /// </summary>
    public IAsyncEnumerable<Case> FeedAsync(long afterSequence, bool includeEvidence, CancellationToken ct = default) =>
        FollowAsync(afterSequence, BatchSize(includeEvidence), after => ReadFeedBatch(after, includeEvidence), c => c.Sequence, ct);

    /// <summary>
    /// Every feed event after <paramref name="afterSequence"/>, in order, then follows: a case opened, updated (seen
    /// later, a better picture), or a case whose state changed (acknowledged, closed, rejected; <see cref="CaseFeedEvent.Case"/> as of that change). The cursor
    /// is <see cref="CaseFeedEvent.Sequence"/>. Same following rules as <see cref="FeedAsync(long, bool, CancellationToken)"/>.
    /// </summary>
    public IAsyncEnumerable<CaseFeedEvent> EventsAsync(long afterSequence, bool includeEvidence, CancellationToken ct = default) =>
        FollowAsync(afterSequence, BatchSize(includeEvidence), after => ReadEventBatch(after, includeEvidence), e => e.Sequence, ct);

    private async IAsyncEnumerable<T> FollowAsync<T>(long afterSequence, int batchSize, Func<long, List<T>> read, Func<T, long> sequenceOf,
        [EnumeratorCancellation] CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(afterSequence);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, _closing.Token);
        FeedFollowers.Inc();
        try
        {
            var cursor = afterSequence;
            while (true)
            {
                // Order matters: take the signal, then look. A commit after this line completes this very signal.
                var committed = Volatile.Read(ref _committed).Task;
                var batch = Volatile.Read(ref _head) > cursor ? read(cursor) : [];
                foreach (var item in batch)
                {
                    ct.ThrowIfCancellationRequested();
                    yield return item;
                    cursor = sequenceOf(item);
                }
                if (batch.Count < batchSize) await WaitAsync(committed, ct, stop.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            FeedFollowers.Dec();
        }
    }

    private async Task WaitAsync(Task committed, CancellationToken caller, CancellationToken stop)
    {
        try
        {
            await committed.WaitAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!caller.IsCancellationRequested && _closing.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(CaseStore), "the case store was closed while following the feed");
        }
    }

    private List<Case> ReadFeedBatch(long afterSequence, bool includeEvidence)
    {
        using var conn = Connect();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"""
            SELECT {CaseColumns} FROM feed f JOIN cases c ON c.id = f.case_id
            WHERE f.sequence > $after AND f.kind = {KindOpened}
            ORDER BY f.sequence LIMIT {BatchSize(includeEvidence)};
            """;
        cmd.Parameters.AddWithValue("$after", afterSequence);
        var list = new List<Case>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) list.Add(ReadRow(r, includeEvidence));
        return list;
    }

    private List<CaseFeedEvent> ReadEventBatch(long afterSequence, bool includeEvidence)
    {
        using var conn = Connect();
        using var cmd = conn.CreateCommand();
        // A state event carries the case as it is now (its latest state), which is at least as new as the event.
        cmd.CommandText = $"""
            SELECT {CaseColumns}, f.sequence, f.kind FROM feed f JOIN cases c ON c.id = f.case_id
            WHERE f.sequence > $after AND f.kind IN ({KindOpened}, {KindUpdated}, {KindStateChanged})
            ORDER BY f.sequence LIMIT {BatchSize(includeEvidence)};
            """;
        cmd.Parameters.AddWithValue("$after", afterSequence);
        var list = new List<CaseFeedEvent>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var c = ReadRow(r, includeEvidence);
            list.Add(new CaseFeedEvent(r.GetInt64(35), (CaseFeedKind)r.GetInt32(36), c));
        }
        return list;
    }

    private Case? ReadCase(SqliteConnection conn, string id, bool includeEvidence)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT {CaseColumns} FROM cases c WHERE c.id = $id;";
        cmd.Parameters.AddWithValue("$id", id ?? "");
        using var r = cmd.ExecuteReader();
        return r.Read() ? ReadRow(r, includeEvidence) : null;
    }

    private Case ReadRow(SqliteDataReader r, bool includeEvidence)
    {
        var evidencePath = r.IsDBNull(27) ? null : r.GetString(27);
        return new Case
        {
            Id = r.GetString(0),
            Sequence = r.IsDBNull(1) ? 0 : r.GetInt64(1),
            CaseType = r.GetString(2),
            CameraId = r.GetString(3),
            GroupId = r.GetString(4),
            CaseTypeCode = r.GetString(5),
            CaseTypeNameZh = r.GetString(6),
            CaseTypeNameEn = r.GetString(7),
            District = r.GetString(8),
            Street = r.GetString(9),
            Grid = r.GetString(10),
            ResponsibleUnit = r.GetString(11),
            Zone = r.GetString(12),
            Latitude = r.GetDouble(13),
            Longitude = r.GetDouble(14),
            FirstSeen = FromTicks(r.GetInt64(15), r.GetInt64(16)),
            LastSeen = FromTicks(r.GetInt64(17), r.GetInt64(18)),
            Confidence = (float)r.GetDouble(19),
            Box = new Box((float)r.GetDouble(20), (float)r.GetDouble(21), (float)r.GetDouble(22), (float)r.GetDouble(23)),
            ImageWidth = r.GetInt32(24),
            ImageHeight = r.GetInt32(25),
            ClassName = r.GetString(26),
            Evidence = includeEvidence && evidencePath is not null ? ReadEvidenceFile(evidencePath) : [],
            State = (CaseState)r.GetInt32(28),
            ReportedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(29)),
            AcknowledgedAt = r.IsDBNull(30) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(30)),
            ClosedAt = r.IsDBNull(31) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(31)),
            StateNote = r.GetString(32),
            RaisedAt = r.IsDBNull(33) ? null : FromTicks(r.GetInt64(33), r.GetInt64(34)),
        };
    }

    private byte[] ReadEvidenceFile(string relative)
    {
        try
        {
            return File.ReadAllBytes(Path.Combine(DataFolder, relative));
        }
        catch (FileNotFoundException)
        {
            return []; // removed by hand or by retention: the case itself still stands
        }
    }

    private static DateTimeOffset FromTicks(long utcTicks, long offsetMinutes) =>
        new DateTimeOffset(utcTicks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(offsetMinutes));

    private static string RelativeEvidencePath(string id, EvidenceView view = EvidenceView.Best) => Path.Combine(EvidenceFolderName, view switch
    {
        EvidenceView.Best => id + ".jpg",
        EvidenceView.BestCrop => id + "-crop.jpg",
        EvidenceView.First => id + "-first.jpg",
        EvidenceView.FirstCrop => id + "-first-crop.jpg",
        _ => throw new ArgumentOutOfRangeException(nameof(view)),
    });

    /// <summary>Before the best view is first replaced, the original pictures become the first view (once).</summary>
    /// <summary>Appends one event to the feed inside <paramref name="tx"/>; its sequence.</summary>
    private static long AppendEvent(SqliteConnection conn, SqliteTransaction tx, int kind, string caseId, long nowMs)
    {
        using var feed = conn.CreateCommand();
        feed.Transaction = tx;
        feed.CommandText = "INSERT INTO feed (kind, case_id, recorded_at_ms) VALUES ($kind, $id, $now) RETURNING sequence;";
        feed.Parameters.AddWithValue("$kind", kind);
        feed.Parameters.AddWithValue("$id", caseId);
        feed.Parameters.AddWithValue("$now", nowMs);
        return Convert.ToInt64(feed.ExecuteScalar());
    }

    /// <summary>Runs <paramref name="change"/> and appends its event in one transaction, then wakes the followers.</summary>
    private long CommitWithEvent(SqliteConnection conn, SqliteCommand change, int kind, string caseId)
    {
        long sequence;
        using (var tx = conn.BeginTransaction())
        {
            change.Transaction = tx;
            change.ExecuteNonQuery();
            sequence = AppendEvent(conn, tx, kind, caseId, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            tx.Commit();
        }
        Volatile.Write(ref _head, sequence);
        Signal();
        return sequence;
    }

    private void KeepFirstView(string id)
    {
        var first = Path.Combine(DataFolder, RelativeEvidencePath(id, EvidenceView.First));
        if (File.Exists(first)) return;
        var best = Path.Combine(DataFolder, RelativeEvidencePath(id));
        if (!File.Exists(best)) return;
        var bestCrop = Path.Combine(DataFolder, RelativeEvidencePath(id, EvidenceView.BestCrop));
        // Copied, not moved: the best view stays in place until its replacement is renamed over it, so a reader in
        // between (a feed or push consumer, GetEvidence) never finds no picture. Crop first: if we stop between the
        // two, the first view is not there yet and the next update does it again.
        if (File.Exists(bestCrop)) CopyDurably(bestCrop, Path.Combine(DataFolder, RelativeEvidencePath(id, EvidenceView.FirstCrop)));
        CopyDurably(best, first);
        DurableDirectory.Sync(EvidenceFolder);
    }

    private static void CopyDurably(string from, string to)
    {
        var temp = to + ".tmp";
        File.Copy(from, temp, overwrite: true);
        using (var fs = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) fs.Flush(flushToDisk: true);
        File.Move(temp, to, overwrite: true);
    }

    private void WriteEvidenceDurably(string id, byte[] jpeg, EvidenceView view = EvidenceView.Best)
    {
        var final = Path.Combine(DataFolder, RelativeEvidencePath(id, view));
        var temp = final + ".tmp";
        using (var fs = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            fs.Write(jpeg);
            fs.Flush(flushToDisk: true);
        }
        File.Move(temp, final, overwrite: true);
        DurableDirectory.Sync(EvidenceFolder); // make the rename itself survive a power cut
    }

    /// <summary>Ids become file names: refuse anything that could leave the evidence folder.</summary>
    private static void ValidateId(string id)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        if (id.Length > 200 || id is "." or ".." || id.IndexOfAny(['/', '\\']) >= 0 ||
            id.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            throw new ArgumentException($"case id '{id}' cannot be used as a file name", nameof(id));
    }

    private void Signal()
    {
        var previous = Interlocked.Exchange(ref _committed, NewSignal());
        previous.TrySetResult();
    }

    // Asynchronous continuations: waking followers never runs their code on the writer's thread.
    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SqliteConnection Connect()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var conn = new SqliteConnection(_connectionString);
        conn.Open();
        // Per connection, so set on every (possibly pooled) open. FULL: a commit survives power loss, not just a crash.
        Execute(conn, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
        return conn;
    }

    private static void Execute(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static T Scalar<T>(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return (T)Convert.ChangeType(cmd.ExecuteScalar()!, typeof(T));
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _closing.Cancel(); // followers end with ObjectDisposedException
        // Close pooled handles so the file is released (tests reopen it; an operator may copy it).
        using (var conn = new SqliteConnection(_connectionString)) SqliteConnection.ClearPool(conn);
        // _closing is deliberately not disposed: followers still unwinding read its state.
    }
}

/// <summary>A lifecycle step the case cannot take from where it is (e.g. reopening a closed case).</summary>
public sealed class InvalidCaseTransitionException(string caseId, CaseState from, CaseState to)
    : InvalidOperationException($"case '{caseId}' is {from.ToString().ToLowerInvariant()}: it cannot become {to.ToString().ToLowerInvariant()}")
{
    public string CaseId { get; } = caseId;
    public CaseState From { get; } = from;
    public CaseState To { get; } = to;
}

/// <summary>The pictures a case keeps: the best view so far and the first one, each as the annotated frame and a crop.</summary>
public enum EvidenceView
{
    Best,
    BestCrop,
    First,
    FirstCrop,
}

/// <param name="Cases">Cases that lost pictures.</param>
/// <param name="BytesFreed">Bytes deleted.</param>
/// <param name="BytesKept">What the evidence folder holds afterwards (may exceed the limit when only open cases' proof is left).</param>
public readonly record struct EvidencePruning(int Cases, long BytesFreed, long BytesKept);

/// <summary>What a feed event says about its case.</summary>
public enum CaseFeedKind
{
    Opened = 1,
    /// <summary>Seen again later, or a better picture (last seen, confidence, evidence).</summary>
    Updated = 2,
    StateChanged = 3,
}

/// <summary>One event of the store's feed: its sequence (the consumer's cursor), what happened, and the case.</summary>
public sealed record CaseFeedEvent(long Sequence, CaseFeedKind Kind, Case Case);
