using System.Diagnostics;
using CitySight.Domain;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace CitySight.Cases.Sqlite;

/// <summary>
/// The cases in SQLite: open, later sightings and the lifecycle, each committed with its feed event on the store's writer
/// thread (<see cref="StoreWriter"/>); and the reads. Pictures are written (fsync) before the commit that refers to them.
/// Storage faults (disk full, read-only, I/O error) reach the caller as <see cref="IOException"/>, with nothing committed;
/// below the evidence reserve a new case is refused (<see cref="EvidenceSpaceException"/>) and a better picture skipped.
/// </summary>
internal sealed class SqliteCaseRecords : ICaseRecords
{
    private static readonly Counter CasesTotal = Metrics.CreateCounter(
        "citysight_cases_total", "Candidate cases opened (committed new cases), by case type.",
        new CounterConfiguration { LabelNames = ["case_type"] });

    private static readonly Counter EvidenceSkipped = Metrics.CreateCounter(
        "citysight_evidence_skipped_total",
        "Better pictures of open cases not written because the evidence folder's free space is below the reserve kept for the database.");

    private readonly SqliteDatabase _db;
    private readonly SqliteCaseFeed _feed;
    private readonly EvidenceFiles _evidence;
    private readonly Func<string, byte[]> _readEvidence;
    private readonly ILogger? _logger;
    private readonly SqliteCaseQueries _queries;

    public SqliteCaseRecords(SqliteDatabase db, SqliteCaseFeed feed, EvidenceFiles evidence, ILogger? logger = null)
    {
        _db = db;
        _feed = feed;
        _evidence = evidence;
        _readEvidence = evidence.ReadOrEmpty;
        _logger = logger;
        _queries = new SqliteCaseQueries(db);
    }

    public event Action<CaseFeedEvent>? StateChanged;

    /// <summary>When the newest new case became durable and visible on the feed (a Stopwatch timestamp; the bench reads it).</summary>
    internal long LastOpenCommittedAt { get; private set; }

    public async Task<Case> OpenAsync(Case c, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(c);
        EvidenceFiles.ValidateCaseId(c.Id);
        var called = Stopwatch.GetTimestamp();
        return await _db.Writer.WriteAsync(() => Open(c, called), ct).ConfigureAwait(false);
    }

    /// <summary>On the writer thread. Past this point the token is not honoured: a commit is never left half-done.</summary>
    private Case Open(Case c, long called)
    {
        try
        {
            using var conn = _db.Connect();
            if (ReadCase(conn, c.Id, includeEvidence: true) is { } existing) return existing;

            // A case without its pictures is no evidence: below the reserve it is refused whole, and its raiser keeps it.
            _evidence.EnsureRoomFor((long)(c.Evidence?.Length ?? 0) + (c.EvidenceCrop?.Length ?? 0) + (c.EvidenceBeforeAfter?.Length ?? 0));
            string? evidencePath = null;
            // Evidence first: a crash before the commit leaves only an orphan file, which the retry overwrites.
            if (c.Evidence is { Length: > 0 }) evidencePath = _evidence.Write(c.Id, c.Evidence);
            if (c.EvidenceCrop is { Length: > 0 }) _evidence.Write(c.Id, c.EvidenceCrop, EvidenceView.BestCrop);
            if (c.EvidenceBeforeAfter is { Length: > 0 }) _evidence.Write(c.Id, c.EvidenceBeforeAfter, EvidenceView.BeforeAfter);

            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            // A new case is always stored as reported: the lifecycle moves on only through TransitionAsync. Its sequence
            // is the feed's, set in the same transaction.
            var opened = c with
            {
                Sequence = 0, State = CaseState.Reported, ReportedAt = DateTimeOffset.FromUnixTimeMilliseconds(now),
                AcknowledgedAt = null, ClosedAt = null, StateNote = "",
            };
            long sequence;
            using (var tx = conn.BeginTransaction()) // BEGIN IMMEDIATE
            {
                CaseRow.Insert(conn, tx, opened, evidencePath, now);
                sequence = SqliteCaseFeed.Append(conn, tx, CaseFeedKind.Opened, c.Id, now);
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
            _feed.Published(sequence);
            CaseCommitTime.Observe(called);
            LastOpenCommittedAt = Stopwatch.GetTimestamp();
            return opened with { Sequence = sequence };
        }
        catch (SqliteException ex) when (SqliteFaults.IsStorage(ex))
        {
            throw SqliteFaults.AsIo(ex, _db.Path);
        }
    }

    public Task UpdateSightingAsync(string caseId, DateTimeOffset lastSeen, float confidence, byte[]? betterEvidence,
        CancellationToken ct = default) => UpdateSightingAsync(caseId, lastSeen, confidence, betterEvidence, null, ct);

    public async Task UpdateSightingAsync(string caseId, DateTimeOffset lastSeen, float confidence, byte[]? betterEvidence,
        byte[]? betterCrop, CancellationToken ct = default)
    {
        EvidenceFiles.ValidateCaseId(caseId);
        await _db.Writer.WriteAsync(() => UpdateSighting(caseId, lastSeen, confidence, betterEvidence, betterCrop), ct).ConfigureAwait(false);
    }

    /// <summary>On the writer thread.</summary>
    private bool UpdateSighting(string caseId, DateTimeOffset lastSeen, float confidence, byte[]? betterEvidence, byte[]? betterCrop)
    {
        try
        {
            using var conn = _db.Connect();
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
            // About twice the new pictures: the first view is kept (a copy of the old ones) before they are replaced.
            if (betterEvidence is { Length: > 0 } && !_evidence.HasRoomFor(2L * (betterEvidence.Length + (betterCrop?.Length ?? 0))))
            {
                // The case has its pictures already; what is new (last seen, confidence) is still recorded.
                EvidenceSkipped.Inc();
                _logger?.LogWarning("Case {Case}: better picture not written, the evidence folder is below its free-space reserve ({Reserve} bytes)",
                    caseId, _evidence.MinFreeBytes);
            }
            else if (betterEvidence is { Length: > 0 })
            {
                _evidence.KeepFirstView(caseId);
                // Replaced by rename: a reader gets either the old or the new JPEG, never a torn one.
                evidencePath = _evidence.Write(caseId, betterEvidence);
                if (betterCrop is { Length: > 0 }) _evidence.Write(caseId, betterCrop, EvidenceView.BestCrop);
            }

            var later = lastSeen.UtcTicks > storedLastSeen;
            // Something a consumer should hear about (seen later, a better picture) is a feed event, committed with it,
            // at most once per UpdateInterval of frame time: the row always holds the newest, the feed says so steadily.
            var newest = Math.Max(storedLastSeen, lastSeen.UtcTicks);
            var announce = (later || evidencePath is not null) && newest - announced >= SqliteCaseStore.UpdateInterval.Ticks;
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
            if (announce) _feed.CommitWithEvent(conn, update, CaseFeedKind.Updated, caseId);
            else update.ExecuteNonQuery();
            return announce;
        }
        catch (SqliteException ex) when (SqliteFaults.IsStorage(ex))
        {
            throw SqliteFaults.AsIo(ex, _db.Path);
        }
    }

    public async Task<bool> CloseGoneAsync(string caseId, DateTimeOffset at, string note, CancellationToken ct = default)
    {
        try
        {
            await TransitionAsync(caseId, CaseState.Closed, at, note, closedGone: true, ct).ConfigureAwait(false);
            return true;
        }
        catch (InvalidCaseTransitionException)
        {
            return false;
        }
    }

    public Task<Case> TransitionAsync(string caseId, CaseState to, DateTimeOffset at, string? note = null, CancellationToken ct = default) =>
        TransitionAsync(caseId, to, at, note, closedGone: false, ct);

    /// <param name="closedGone">CitySight closes it itself (no camera sees it any more): not one of dispatch's outcomes.</param>
    private async Task<Case> TransitionAsync(string caseId, CaseState to, DateTimeOffset at, string? note, bool closedGone, CancellationToken ct)
    {
        EvidenceFiles.ValidateCaseId(caseId);
        return await _db.Writer.WriteAsync(() => Transition(caseId, to, at, note, closedGone), ct).ConfigureAwait(false);
    }

    /// <summary>On the writer thread: the state change and its feed event in one commit, then <see cref="StateChanged"/>, in commit order.</summary>
    private Case Transition(string caseId, CaseState to, DateTimeOffset at, string? note, bool closedGone)
    {
        try
        {
            using var conn = _db.Connect();
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
                    closed_gone        = $gone,
                    updated_at_ms      = $now
                WHERE id = $id;
                """;
            update.Parameters.AddWithValue("$state", (int)to);
            update.Parameters.AddWithValue("$gone", closedGone && to == CaseState.Closed);
            update.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
            update.Parameters.AddWithValue("$note", note ?? "");
            update.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            update.Parameters.AddWithValue("$id", caseId);
            var sequence = _feed.CommitWithEvent(conn, update, CaseFeedKind.StateChanged, caseId);
            var changed = ReadCase(conn, caseId, includeEvidence: false)!;
            StateChanged?.Invoke(new CaseFeedEvent(sequence, CaseFeedKind.StateChanged, changed));
            return changed;
        }
        catch (SqliteException ex) when (SqliteFaults.IsStorage(ex))
        {
            throw SqliteFaults.AsIo(ex, _db.Path);
        }
    }

    public Task<Case?> GetAsync(string id, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        using var conn = _db.Connect();
        return Task.FromResult(ReadCase(conn, id, includeEvidence: true));
    }

    public Task<IReadOnlyList<Case>> OpenSinceAsync(DateTimeOffset lastSeenAfter, CancellationToken ct = default) =>
        CasesSinceAsync(lastSeenAfter, includeFinal: false, ct);

    public Task<IReadOnlyList<Case>> CasesSinceAsync(DateTimeOffset lastSeenAfter, bool includeFinal, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        using var conn = _db.Connect();
        using var cmd = conn.CreateCommand();
        var states = includeFinal ? "" : " AND c.state IN (1, 2)";
        cmd.CommandText = $"SELECT {CaseRow.Columns} FROM cases c WHERE c.last_seen_ticks > $after{states} ORDER BY c.sequence;";
        cmd.Parameters.AddWithValue("$after", lastSeenAfter.UtcTicks);
        var list = new List<Case>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) list.Add(CaseRow.Read(r, evidence: null));
        return Task.FromResult<IReadOnlyList<Case>>(list);
    }

    public Task<IReadOnlyList<Case>> NewestAsync(CaseQuery query, CancellationToken ct = default) => _queries.NewestAsync(query, ct);

    public Task<IReadOnlyList<CaseCount>> CountAsync(IReadOnlySet<CaseState>? states, DateTimeOffset? reportedFrom, CancellationToken ct = default) =>
        _queries.CountAsync(states, reportedFrom, ct);

    public Task<IReadOnlyList<CaseDecision>> DecidedAsync(DateTimeOffset closedFrom, CancellationToken ct = default) =>
        _queries.DecidedAsync(closedFrom, ct);

    private Case? ReadCase(SqliteConnection conn, string id, bool includeEvidence)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT {CaseRow.Columns} FROM cases c WHERE c.id = $id;";
        cmd.Parameters.AddWithValue("$id", id ?? "");
        using var r = cmd.ExecuteReader();
        return r.Read() ? CaseRow.Read(r, includeEvidence ? _readEvidence : null) : null;
    }
}
