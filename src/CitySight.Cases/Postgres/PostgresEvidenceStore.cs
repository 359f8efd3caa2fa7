using Npgsql;
using NpgsqlTypes;

namespace CitySight.Cases.Postgres;

/// <summary>
/// The pictures as rows of <c>evidence</c> (bytea, one per case and view), written in the transaction of the case or
/// sighting they belong to, so every node reads the same pictures; and retention by the same rules as SQLite.
/// </summary>
/// <remarks>
/// No free-space reserve (<see cref="EvidenceSpaceException"/>) here: the pictures share the database's storage, which
/// the server manages; a full disk reaches the writer as <see cref="IOException"/> and nothing is committed.
/// </remarks>
internal sealed class PostgresEvidenceStore(PostgresDatabase db) : IEvidenceStore
{
    /// <summary>Retention runs on one node at a time (transaction-level advisory lock).</summary>
    private const long PruneLock = 0x43_69_74_79_50_72_75; // "CityPru"

    public Task<byte[]?> GetEvidenceAsync(string id, CancellationToken ct = default) => GetEvidenceAsync(id, EvidenceView.Best, ct);

    public async Task<byte[]?> GetEvidenceAsync(string id, EvidenceView view, CancellationToken ct = default)
    {
        try
        {
            await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand("SELECT jpeg FROM evidence WHERE case_id = @id AND view = @view;", conn);
            cmd.Parameters.AddWithValue("id", NpgsqlDbType.Text, id ?? "");
            cmd.Parameters.AddWithValue("view", NpgsqlDbType.Smallint, (short)view);
            return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) as byte[];
        }
        catch (Exception ex) when (PostgresDatabase.IsStorage(ex))
        {
            throw db.AsIo(ex);
        }
    }

    /// <summary>Writes (or replaces) one view inside <paramref name="tx"/>; nothing for an empty picture.</summary>
    public static async Task WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string id, EvidenceView view, byte[]? jpeg)
    {
        if (jpeg is not { Length: > 0 }) return;
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO evidence (case_id, view, jpeg) VALUES (@id, @view, @jpeg)
            ON CONFLICT (case_id, view) DO UPDATE SET jpeg = excluded.jpeg;
            """, conn, tx);
        cmd.Parameters.AddWithValue("id", NpgsqlDbType.Text, id);
        cmd.Parameters.AddWithValue("view", NpgsqlDbType.Smallint, (short)view);
        cmd.Parameters.AddWithValue("jpeg", NpgsqlDbType.Bytea, jpeg);
        await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>Before the best view is first replaced, the original pictures become the first view (once), inside <paramref name="tx"/>.</summary>
    public static async Task KeepFirstViewAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string id)
    {
        await using var cmd = new NpgsqlCommand($"""
            INSERT INTO evidence (case_id, view, jpeg)
            SELECT case_id, CASE view WHEN {(int)EvidenceView.Best} THEN {(int)EvidenceView.First} ELSE {(int)EvidenceView.FirstCrop} END, jpeg
            FROM evidence
            WHERE case_id = @id AND view IN ({(int)EvidenceView.Best}, {(int)EvidenceView.BestCrop})
              AND NOT EXISTS (SELECT 1 FROM evidence WHERE case_id = @id AND view = {(int)EvidenceView.First})
            ON CONFLICT (case_id, view) DO UPDATE SET jpeg = excluded.jpeg;
            """, conn, tx);
        cmd.Parameters.AddWithValue("id", NpgsqlDbType.Text, id);
        await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    public async Task<EvidencePruning> PruneEvidenceAsync(DateTimeOffset closedBefore, long maxBytes, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        try
        {
            await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
            await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
            await Scalar(conn, tx, $"SELECT pg_advisory_xact_lock({PruneLock});", null);
            var total = await Scalar(conn, tx, "SELECT COALESCE(SUM(octet_length(jpeg)), 0) FROM evidence;", null);
            var before = total;
            var cases = 0;
            const string every = "0, 1, 2, 3, 4";
            foreach (var (id, closedAtMs) in await Ids(conn, tx, "SELECT id, closed_at_ms FROM cases WHERE state IN (3, 4) ORDER BY closed_at_ms, id;"))
            {
                if (closedAtMs >= closedBefore.ToUnixTimeMilliseconds() && total <= maxBytes) break;
                var freed = await Delete(conn, tx, id, every);
                if (freed == 0) continue;
                total -= freed;
                cases++;
                await Scalar(conn, tx, "UPDATE cases SET has_evidence = false WHERE id = @id RETURNING 0;", id);
            }
            if (total > maxBytes)
            {
                // Open cases lose their first view and the before / after pair, never the best view dispatch acts on.
                var aside = $"{(int)EvidenceView.First}, {(int)EvidenceView.FirstCrop}, {(int)EvidenceView.BeforeAfter}";
                foreach (var (id, _) in await Ids(conn, tx, "SELECT id, last_seen_ticks FROM cases WHERE state IN (1, 2) ORDER BY last_seen_ticks, id;"))
                {
                    if (total <= maxBytes) break;
                    var freed = await Delete(conn, tx, id, aside);
                    if (freed == 0) continue;
                    total -= freed;
                    cases++;
                }
            }
            await tx.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            return new EvidencePruning(cases, before - total, total);
        }
        catch (Exception ex) when (PostgresDatabase.IsStorage(ex))
        {
            throw db.AsIo(ex);
        }
    }

    private static Task<long> Delete(NpgsqlConnection conn, NpgsqlTransaction tx, string id, string views) => Scalar(conn, tx, $"""
        WITH gone AS (DELETE FROM evidence WHERE case_id = @id AND view IN ({views}) RETURNING octet_length(jpeg) AS n)
        SELECT COALESCE(SUM(n), 0) FROM gone;
        """, id);

    private static async Task<long> Scalar(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, string? id)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        if (id is not null) cmd.Parameters.AddWithValue("id", NpgsqlDbType.Text, id);
        return await cmd.ExecuteScalarAsync().ConfigureAwait(false) is { } v and not DBNull ? Convert.ToInt64(v) : 0;
    }

    private static async Task<List<(string Id, long Key)>> Ids(NpgsqlConnection conn, NpgsqlTransaction tx, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await using var r = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        var list = new List<(string, long)>();
        while (await r.ReadAsync().ConfigureAwait(false)) list.Add((r.GetString(0), r.IsDBNull(1) ? 0 : r.GetInt64(1)));
        return list;
    }
}
