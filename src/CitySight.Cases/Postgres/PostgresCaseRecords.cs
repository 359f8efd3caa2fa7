using CitySight.Domain;
using Npgsql;
using NpgsqlTypes;
using Prometheus;

namespace CitySight.Cases.Postgres;

/// <summary>
/// The cases in PostgreSQL: open, later sightings and the lifecycle, each committed with its feed event and its
/// pictures in one transaction, from any node; and the reads. Concurrent writers on several nodes are ordered by the
/// database: the case's row lock (FOR UPDATE) for changes of one case, the unique id for a case opened twice, and the
/// feed's head row for the sequence (see <see cref="PostgresCaseFeed.AppendAsync"/>).
/// Storage faults reach the caller as <see cref="IOException"/> naming the store, with nothing committed.
/// </summary>
internal sealed class PostgresCaseRecords(PostgresDatabase db, PostgresCaseFeed feed, SamePlace? samePlace = null)
{
    // The same series as SQLite's: a node counts what it committed.
    private static readonly Counter CasesTotal = Metrics.CreateCounter(
        "citysight_cases_total", "Candidate cases opened (committed new cases), by case type.",
        new CounterConfiguration { LabelNames = ["case_type"] });

    private readonly PostgresCaseQueries _queries = new(db);

    public event Action<CaseFeedEvent>? StateChanged;


    public async Task<Case> OpenAsync(Case c, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(c);
        EvidenceFiles.ValidateCaseId(c.Id);
        var called = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
            if (await ReadCaseAsync(conn, null, c.Id, includeEvidence: true, forUpdate: false).ConfigureAwait(false) is { } existing) return existing;

            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            // Past this point the token is not honoured: a commit is never left half-done.
            await using var tx = await conn.BeginTransactionAsync(CancellationToken.None).ConfigureAwait(false);
            // Another camera's open case at this place (raised a moment ago on another node): that is the case.
            if (samePlace is not null && await SamePlaceJoin.FindAsync(conn, tx, c, samePlace).ConfigureAwait(false) is { } joined)
            {
                await tx.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                return (await ReadCaseAsync(conn, null, joined, includeEvidence: false, forUpdate: false).ConfigureAwait(false))!;
            }
            if (!await PostgresCaseRow.InsertAsync(conn, tx, c, now, db.NodeId).ConfigureAwait(false))
            {
                // Another writer (this node or another) opened it meanwhile: ON CONFLICT waited for its commit.
                await tx.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                return (await ReadCaseAsync(conn, null, c.Id, includeEvidence: true, forUpdate: false).ConfigureAwait(false))!;
            }
            // The pictures first, then the feed's head: the head's lock is held for as little as possible.
            await PostgresEvidenceStore.WriteAsync(conn, tx, c.Id, EvidenceView.Best, c.Evidence).ConfigureAwait(false);
            await PostgresEvidenceStore.WriteAsync(conn, tx, c.Id, EvidenceView.BestCrop, c.EvidenceCrop).ConfigureAwait(false);
            await PostgresEvidenceStore.WriteAsync(conn, tx, c.Id, EvidenceView.BeforeAfter, c.EvidenceBeforeAfter).ConfigureAwait(false);
            var sequence = await feed.AppendAsync(conn, tx, CaseFeedKind.Opened, c.Id, caseSequence: true).ConfigureAwait(false);
            await tx.CommitAsync(CancellationToken.None).ConfigureAwait(false);

            CasesTotal.WithLabels(c.CaseType ?? "").Inc();
            feed.Published(sequence);
            CaseCommitTime.Observe(called);
            return c with
            {
                Sequence = sequence, State = CaseState.Reported, ReportedAt = DateTimeOffset.FromUnixTimeMilliseconds(now),
                AcknowledgedAt = null, ClosedAt = null, StateNote = "",
            };
        }
        catch (Exception ex) when (PostgresDatabase.IsStorage(ex))
        {
            throw db.AsIo(ex);
        }
    }

    public async Task UpdateSightingAsync(string caseId, DateTimeOffset lastSeen, float confidence, byte[]? betterEvidence,
        byte[]? betterCrop, CancellationToken ct)
    {
        EvidenceFiles.ValidateCaseId(caseId);
        try
        {
            await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
            await using var tx = await conn.BeginTransactionAsync(CancellationToken.None).ConfigureAwait(false);
            long storedLastSeen, announced;
            double storedConfidence;
            await using (var read = new NpgsqlCommand("""
                SELECT last_seen_ticks, confidence, COALESCE(announced_seen_ticks, raised_ticks, first_seen_ticks)
                FROM cases WHERE id = @id FOR UPDATE;
                """, conn, tx))
            {
                read.Parameters.AddWithValue("id", NpgsqlDbType.Text, caseId);
                await using var r = await read.ExecuteReaderAsync().ConfigureAwait(false);
                if (!await r.ReadAsync().ConfigureAwait(false)) throw new KeyNotFoundException($"no case with id '{caseId}'");
                storedLastSeen = r.GetInt64(0);
                storedConfidence = r.GetDouble(1);
                announced = r.GetInt64(2);
            }

            var better = betterEvidence is { Length: > 0 };
            if (better)
            {
                await PostgresEvidenceStore.KeepFirstViewAsync(conn, tx, caseId).ConfigureAwait(false);
                await PostgresEvidenceStore.WriteAsync(conn, tx, caseId, EvidenceView.Best, betterEvidence).ConfigureAwait(false);
                await PostgresEvidenceStore.WriteAsync(conn, tx, caseId, EvidenceView.BestCrop, betterCrop).ConfigureAwait(false);
            }

            var later = lastSeen.UtcTicks > storedLastSeen;
            // As in SQLite: the row always holds the newest; the feed says so at most once per UpdateInterval of frame time.
            var newest = Math.Max(storedLastSeen, lastSeen.UtcTicks);
            var announce = (later || better) && newest - announced >= PostgresCaseStore.UpdateInterval.Ticks;
            await using (var update = new NpgsqlCommand("""
                UPDATE cases SET
                    last_seen_ticks      = CASE WHEN @later THEN @ls_ticks ELSE last_seen_ticks END,
                    last_seen_offset     = CASE WHEN @later THEN @ls_offset ELSE last_seen_offset END,
                    confidence           = @confidence,
                    has_evidence         = has_evidence OR @better,
                    announced_seen_ticks = CASE WHEN @announce THEN @newest ELSE announced_seen_ticks END,
                    updated_at_ms        = @now
                WHERE id = @id;
                """, conn, tx))
            {
                var p = update.Parameters;
                p.AddWithValue("later", later);
                p.AddWithValue("ls_ticks", lastSeen.UtcTicks);
                p.AddWithValue("ls_offset", (int)lastSeen.Offset.TotalMinutes);
                p.AddWithValue("confidence", Math.Max(storedConfidence, confidence));
                p.AddWithValue("better", better);
                p.AddWithValue("announce", announce);
                p.AddWithValue("newest", newest);
                p.AddWithValue("now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                p.AddWithValue("id", NpgsqlDbType.Text, caseId);
                await update.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
            var sequence = announce ? await feed.AppendAsync(conn, tx, CaseFeedKind.Updated, caseId, caseSequence: false).ConfigureAwait(false) : 0;
            await tx.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            if (announce) feed.Published(sequence);
        }
        catch (Exception ex) when (PostgresDatabase.IsStorage(ex))
        {
            throw db.AsIo(ex);
        }
    }

    public async Task<bool> CloseGoneAsync(string caseId, DateTimeOffset at, string note, CancellationToken ct)
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

    /// <summary>
    /// The state change and its feed event in one commit, then <see cref="StateChanged"/> on this node (the one that
    /// committed it); the other nodes hear it on the feed.
    /// </summary>
    /// <param name="closedGone">CitySight closes it itself (no camera sees it any more): not one of dispatch's outcomes.</param>
    public async Task<Case> TransitionAsync(string caseId, CaseState to, DateTimeOffset at, string? note, bool closedGone, CancellationToken ct)
    {
        EvidenceFiles.ValidateCaseId(caseId);
        try
        {
            await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
            long sequence;
            await using (var tx = await conn.BeginTransactionAsync(CancellationToken.None).ConfigureAwait(false))
            {
                var current = await ReadCaseAsync(conn, tx, caseId, includeEvidence: false, forUpdate: true).ConfigureAwait(false)
                    ?? throw new KeyNotFoundException($"no case with id '{caseId}'");
                if (current.State == to) return current;
                if (!current.State.CanMoveTo(to)) throw new InvalidCaseTransitionException(caseId, current.State, to);

                await using (var update = new NpgsqlCommand("""
                    UPDATE cases SET
                        state              = @state,
                        acknowledged_at_ms = CASE WHEN @state = 2 THEN @at ELSE acknowledged_at_ms END,
                        closed_at_ms       = CASE WHEN @state IN (3, 4) THEN @at ELSE closed_at_ms END,
                        state_note         = @note,
                        closed_gone        = @gone,
                        updated_at_ms      = @now
                    WHERE id = @id;
                    """, conn, tx))
                {
                    var p = update.Parameters;
                    p.AddWithValue("state", (int)to);
                    p.AddWithValue("gone", closedGone && to == CaseState.Closed);
                    p.AddWithValue("at", at.ToUnixTimeMilliseconds());
                    p.AddWithValue("note", NpgsqlDbType.Text, note ?? "");
                    p.AddWithValue("now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                    p.AddWithValue("id", NpgsqlDbType.Text, caseId);
                    await update.ExecuteNonQueryAsync().ConfigureAwait(false);
                }
                sequence = await feed.AppendAsync(conn, tx, CaseFeedKind.StateChanged, caseId, caseSequence: false).ConfigureAwait(false);
                await tx.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            feed.Published(sequence);
            var changed = (await ReadCaseAsync(conn, null, caseId, includeEvidence: false, forUpdate: false).ConfigureAwait(false))!;
            StateChanged?.Invoke(new CaseFeedEvent(sequence, CaseFeedKind.StateChanged, changed));
            return changed;
        }
        catch (Exception ex) when (PostgresDatabase.IsStorage(ex))
        {
            throw db.AsIo(ex);
        }
    }

    public async Task<Case?> GetAsync(string id, CancellationToken ct)
    {
        try
        {
            await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
            return await ReadCaseAsync(conn, null, id, includeEvidence: true, forUpdate: false).ConfigureAwait(false);
        }
        catch (Exception ex) when (PostgresDatabase.IsStorage(ex))
        {
            throw db.AsIo(ex);
        }
    }

    public async Task<IReadOnlyList<Case>> CasesSinceAsync(DateTimeOffset lastSeenAfter, bool includeFinal, CancellationToken ct)
    {
        try
        {
            await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
            var states = includeFinal ? "" : " AND c.state IN (1, 2)";
            await using var cmd = new NpgsqlCommand(
                $"SELECT {PostgresCaseRow.ColumnsWith(false)} FROM cases c WHERE c.last_seen_ticks > @after{states} ORDER BY c.sequence;", conn);
            cmd.Parameters.AddWithValue("after", lastSeenAfter.UtcTicks);
            return await PostgresCaseQueries.ReadCasesAsync(cmd, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (PostgresDatabase.IsStorage(ex))
        {
            throw db.AsIo(ex);
        }
    }

    public Task<IReadOnlyList<Case>> NewestAsync(CaseQuery query, CancellationToken ct) => _queries.NewestAsync(query, ct);

    public Task<IReadOnlyList<CaseCount>> CountAsync(IReadOnlySet<CaseState>? states, DateTimeOffset? reportedFrom, CancellationToken ct) =>
        _queries.CountAsync(states, reportedFrom, ct);

    public Task<IReadOnlyList<CaseDecision>> DecidedAsync(DateTimeOffset closedFrom, CancellationToken ct) => _queries.DecidedAsync(closedFrom, ct);

    private static async Task<Case?> ReadCaseAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string id, bool includeEvidence, bool forUpdate)
    {
        await using var cmd = new NpgsqlCommand($"""
            SELECT {PostgresCaseRow.ColumnsWith(includeEvidence)} FROM cases c {PostgresCaseRow.BestViewJoin(includeEvidence)}
            WHERE c.id = @id{(forUpdate ? " FOR UPDATE OF c" : "")};
            """, conn, tx);
        cmd.Parameters.AddWithValue("id", NpgsqlDbType.Text, id ?? "");
        await using var r = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        return await r.ReadAsync().ConfigureAwait(false) ? PostgresCaseRow.Read(r) : null;
    }
}
