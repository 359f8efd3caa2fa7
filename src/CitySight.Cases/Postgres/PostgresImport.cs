using CitySight.Cases.Sqlite;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace CitySight.Cases.Postgres;

/// <summary>
/// Moving a single node's embedded store to the cluster's PostgreSQL store: cases, feed events with the same sequences
/// (so every consumer's "everything after N" keeps its meaning), consumer cursors and the pictures, in one transaction.
/// </summary>
public static class PostgresImport
{
    /// <summary>
    /// Copies the SQLite store in <paramref name="sqliteDataFolder"/> (migrated to the current version first; the service
    /// that uses it must be stopped) into the PostgreSQL database, which must hold no case store data yet.
    /// </summary>
    /// <exception cref="FileNotFoundException">No SQLite store in the folder.</exception>
    /// <exception cref="InvalidOperationException">The PostgreSQL store already holds cases, feed events or cursors: nothing is copied.</exception>
    /// <exception cref="IOException">PostgreSQL cannot be reached or written (named by host, port and database).</exception>
    public static async Task<PostgresImportResult> FromSqliteAsync(string sqliteDataFolder, string connectionString, CancellationToken ct = default)
    {
        var folder = Path.GetFullPath(sqliteDataFolder);
        var file = Path.Combine(folder, SqliteCaseStore.DatabaseFileName);
        if (!File.Exists(file)) throw new FileNotFoundException($"no case store to import in {folder}", file);
        // Brings an older file to the current schema (and refuses a damaged one) before it is read.
        new SqliteCaseStore(folder, minFreeBytes: 0).Dispose();
        var pictures = new EvidenceFiles(folder);

        using var db = new PostgresDatabase(connectionString, "import");
        try
        {
            await using var pg = await db.OpenAsync(ct).ConfigureAwait(false);
            PostgresSchema.CreateOrMigrate(pg);
            await using var tx = await pg.BeginTransactionAsync(ct).ConfigureAwait(false);
            // The head's lock keeps every node's writers out until the import commits.
            await using (var check = new NpgsqlCommand("""
                SELECT (SELECT last FROM feed_head WHERE id = 1 FOR UPDATE) <> 0
                    OR EXISTS (SELECT 1 FROM cases) OR EXISTS (SELECT 1 FROM consumers);
                """, pg, tx))
                if ((bool)(await check.ExecuteScalarAsync(ct).ConfigureAwait(false))!)
                    throw new InvalidOperationException($"{db.Name} already holds cases, feed events or cursors: an import only goes into an empty store");

            using var lite = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            lite.Open();
            var (cases, copied) = await CopyCasesAsync(lite, pg, tx, pictures, ct).ConfigureAwait(false);
            var (events, last) = await CopyFeedAsync(lite, pg, tx, ct).ConfigureAwait(false);
            var consumers = await CopyConsumersAsync(lite, pg, tx, ct).ConfigureAwait(false);
            await using (var head = new NpgsqlCommand("UPDATE feed_head SET last = @last WHERE id = 1;", pg, tx))
            {
                head.Parameters.AddWithValue("last", last);
                await head.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            await tx.CommitAsync(ct).ConfigureAwait(false);
            return new PostgresImportResult(cases, events, consumers, copied, last);
        }
        catch (Exception ex) when (PostgresDatabase.IsStorage(ex))
        {
            throw db.AsIo(ex);
        }
    }

    private static async Task<(int Cases, int Pictures)> CopyCasesAsync(SqliteConnection lite, NpgsqlConnection pg, NpgsqlTransaction tx,
        EvidenceFiles pictures, CancellationToken ct)
    {
        const string columns = """
            id, sequence, case_type, camera_id, group_id, case_type_code, case_type_name_zh, case_type_name_en,
            district, street, grid, responsible_unit, zone, latitude, longitude,
            first_seen_ticks, first_seen_offset, last_seen_ticks, last_seen_offset, confidence,
            box_x1, box_y1, box_x2, box_y2, image_width, image_height, class_name,
            state, opened_at_ms, acknowledged_at_ms, closed_at_ms, state_note, raised_ticks, raised_offset,
            announced_seen_ticks, closed_gone, updated_at_ms
            """;
        using var read = lite.CreateCommand();
        read.CommandText = $"SELECT {columns}, evidence_path FROM cases ORDER BY sequence;";
        var names = columns.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        await using var insert = new NpgsqlCommand(
            $"INSERT INTO cases ({columns}, has_evidence, node_id) VALUES ({string.Join(", ", names.Select((_, i) => "$" + (i + 1)))}, ${names.Length + 1}, 'import');",
            pg, tx);
        var types = names.Select(Type).ToArray();
        foreach (var t in types) insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = t });
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Boolean });
        int cases = 0, copied = 0;
        var ids = new List<(string Id, string? Best)>();
        using (var r = read.ExecuteReader())
            while (r.Read())
            {
                for (var i = 0; i < names.Length; i++) insert.Parameters[i].Value = Value(r, i, types[i]);
                var best = r.IsDBNull(names.Length) ? null : r.GetString(names.Length);
                insert.Parameters[names.Length].Value = best is not null;
                await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                ids.Add((r.GetString(0), best));
                cases++;
            }
        foreach (var (id, best) in ids)
            foreach (var view in Enum.GetValues<EvidenceView>())
            {
                // The best view is where the row says (NULL once retention took it); the others follow from the id.
                var jpeg = view == EvidenceView.Best
                    ? best is null ? null : pictures.ReadOrEmpty(best)
                    : await pictures.ReadAsync(id, view, ct).ConfigureAwait(false);
                if (jpeg is not { Length: > 0 }) continue;
                await PostgresEvidenceStore.WriteAsync(pg, tx, id, view, jpeg).ConfigureAwait(false);
                copied++;
            }
        return (cases, copied);
    }

    private static NpgsqlDbType Type(string column) => column switch
    {
        "latitude" or "longitude" or "confidence" or "box_x1" or "box_y1" or "box_x2" or "box_y2" => NpgsqlDbType.Double,
        "first_seen_offset" or "last_seen_offset" or "raised_offset" or "image_width" or "image_height" or "state" => NpgsqlDbType.Integer,
        "closed_gone" => NpgsqlDbType.Boolean,
        _ when column.EndsWith("_ticks") || column.EndsWith("_ms") || column == "sequence" => NpgsqlDbType.Bigint,
        _ => NpgsqlDbType.Text,
    };

    private static object Value(SqliteDataReader r, int i, NpgsqlDbType type)
    {
        if (r.IsDBNull(i)) return DBNull.Value;
        return type switch
        {
            NpgsqlDbType.Double => r.GetDouble(i),
            NpgsqlDbType.Integer => r.GetInt32(i),
            NpgsqlDbType.Bigint => r.GetInt64(i),
            NpgsqlDbType.Boolean => r.GetInt64(i) != 0,
            _ => r.GetString(i),
        };
    }

    private static async Task<(int Events, long Last)> CopyFeedAsync(SqliteConnection lite, NpgsqlConnection pg, NpgsqlTransaction tx, CancellationToken ct)
    {
        using var read = lite.CreateCommand();
        read.CommandText = "SELECT sequence, kind, case_id, recorded_at_ms FROM feed ORDER BY sequence;";
        await using var insert = new NpgsqlCommand(
            "INSERT INTO feed (sequence, kind, case_id, recorded_at_ms, node_id) VALUES ($1, $2, $3, $4, 'import');", pg, tx);
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint });
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer });
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text });
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint });
        int events = 0;
        long last = 0;
        using var r = read.ExecuteReader();
        while (r.Read())
        {
            last = r.GetInt64(0);
            insert.Parameters[0].Value = last;
            insert.Parameters[1].Value = r.GetInt32(1);
            insert.Parameters[2].Value = r.GetString(2);
            insert.Parameters[3].Value = r.GetInt64(3);
            await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            events++;
        }
        // SQLite's AUTOINCREMENT never reuses a number: the head continues after the highest it ever handed out.
        using var seq = lite.CreateCommand();
        seq.CommandText = "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'feed'), 0);";
        return (events, Math.Max(last, Convert.ToInt64(seq.ExecuteScalar())));
    }

    private static async Task<int> CopyConsumersAsync(SqliteConnection lite, NpgsqlConnection pg, NpgsqlTransaction tx, CancellationToken ct)
    {
        using var read = lite.CreateCommand();
        read.CommandText = "SELECT name, acked_sequence, acked_at_ms FROM consumers;";
        await using var insert = new NpgsqlCommand("INSERT INTO consumers (name, acked_sequence, acked_at_ms) VALUES ($1, $2, $3);", pg, tx);
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text });
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint });
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint });
        var n = 0;
        using var r = read.ExecuteReader();
        while (r.Read())
        {
            insert.Parameters[0].Value = r.GetString(0);
            insert.Parameters[1].Value = r.GetInt64(1);
            insert.Parameters[2].Value = r.GetInt64(2);
            await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            n++;
        }
        return n;
    }
}
