using Microsoft.Data.Sqlite;

namespace CitySight.Cases.Sqlite;

/// <summary>Reading the pictures of cases kept in SQLite, and evidence retention (which case loses which pictures).</summary>
internal sealed class SqliteEvidenceStore(SqliteDatabase db, EvidenceFiles files) : IEvidenceStore
{
    public Task<byte[]?> GetEvidenceAsync(string id, CancellationToken ct = default) => GetEvidenceAsync(id, EvidenceView.Best, ct);

    public async Task<byte[]?> GetEvidenceAsync(string id, EvidenceView view, CancellationToken ct = default)
    {
        if (view != EvidenceView.Best) return await files.ReadAsync(id, view, ct).ConfigureAwait(false);
        string? relative;
        using (var conn = db.Connect())
        using (var cmd = conn.CreateCommand())
        {
            cmd.CommandText = "SELECT evidence_path FROM cases WHERE id = $id;";
            cmd.Parameters.AddWithValue("$id", id ?? "");
            relative = cmd.ExecuteScalar() as string; // null for no row and for a NULL column
        }
        // The path comes from our own row, never from the caller: no path traversal through the id.
        return relative is null ? null : await files.ReadAsync(relative, ct).ConfigureAwait(false);
    }

    public async Task<EvidencePruning> PruneEvidenceAsync(DateTimeOffset closedBefore, long maxBytes, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        // Behind the case writes: pruning can wait, a case commit should not wait for it.
        return await db.Writer.WriteWhenIdleAsync(() => Prune(closedBefore, maxBytes), ct).ConfigureAwait(false);
    }

    /// <summary>On the writer thread.</summary>
    private EvidencePruning Prune(DateTimeOffset closedBefore, long maxBytes)
    {
        using var conn = db.Connect();
        var total = files.TotalBytes();
        var before = total;
        var cases = 0;

        var final = Ids(conn, "SELECT id, closed_at_ms FROM cases WHERE state IN (3, 4) ORDER BY closed_at_ms, id;");
        foreach (var (id, closedAtMs) in final)
        {
            if (closedAtMs >= closedBefore.ToUnixTimeMilliseconds() && total <= maxBytes) break;
            var freed = files.Delete(id, EvidenceView.Best, EvidenceView.BestCrop, EvidenceView.First, EvidenceView.FirstCrop, EvidenceView.BeforeAfter);
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
                var freed = files.Delete(id, EvidenceView.First, EvidenceView.FirstCrop, EvidenceView.BeforeAfter);
                if (freed == 0) continue;
                total -= freed;
                cases++;
            }
        }
        if (before != total) files.Sync();
        return new EvidencePruning(cases, before - total, total);
    }

    private static List<(string Id, long Key)> Ids(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var list = new List<(string, long)>();
        while (r.Read()) list.Add((r.GetString(0), r.IsDBNull(1) ? 0 : r.GetInt64(1)));
        return list;
    }
}
