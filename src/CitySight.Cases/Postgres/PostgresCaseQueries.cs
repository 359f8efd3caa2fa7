using CitySight.Domain;
using Npgsql;

namespace CitySight.Cases.Postgres;

/// <summary>
/// The console's reads in PostgreSQL, each from an index of the schema: the newest cases by state, type, group, camera
/// and raised time; counts by state, type and group (GROUP BY); the cases closed or rejected since a time.
/// </summary>
internal sealed class PostgresCaseQueries(PostgresDatabase db)
{
    private static readonly CaseState[] EveryState = Enum.GetValues<CaseState>();

    public async Task<IReadOnlyList<Case>> NewestAsync(CaseQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Limit, CaseQuery.MaxLimit);
        var states = (query.States ?? (IEnumerable<CaseState>)EveryState).Distinct().Order().ToList();
        if (states.Count == 0) return [];
        try
        {
            await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand { Connection = conn };
            var filter = "";
            if (!string.IsNullOrEmpty(query.CaseType))
            {
                filter += " AND c.case_type = @type";
                cmd.Parameters.AddWithValue("type", query.CaseType);
            }
            if (!string.IsNullOrEmpty(query.GroupId))
            {
                filter += " AND c.group_id = @group";
                cmd.Parameters.AddWithValue("group", query.GroupId);
            }
            if (!string.IsNullOrEmpty(query.CameraId))
            {
                filter += " AND c.camera_id = @camera";
                cmd.Parameters.AddWithValue("camera", query.CameraId);
            }
            var inStates = string.Join(", ", states.Select(s => (int)s));
            if (query.RaisedSince is not null || query.RaisedUntil is not null)
            {
                // The expression is cases_raised_at's, word for word.
                cmd.CommandText = $"""
                    SELECT {PostgresCaseRow.ColumnsWith(false)} FROM cases c
                    WHERE COALESCE(c.raised_ticks, c.first_seen_ticks) BETWEEN @since AND @until AND c.state IN ({inStates}){filter}
                    ORDER BY c.sequence DESC LIMIT @limit;
                    """;
                cmd.Parameters.AddWithValue("since", query.RaisedSince?.UtcTicks ?? long.MinValue);
                cmd.Parameters.AddWithValue("until", query.RaisedUntil?.UtcTicks ?? long.MaxValue);
            }
            else
            {
                // One walk per state down its (state[, type | group], sequence) index, at most the limit each, then the newest of those.
                var walks = states.Select(s =>
                    $"(SELECT {PostgresCaseRow.ColumnsWith(false)} FROM cases c WHERE c.state = {(int)s}{filter} ORDER BY c.sequence DESC LIMIT @limit)");
                cmd.CommandText = string.Join("\nUNION ALL\n", walks) + "\nORDER BY 2 DESC LIMIT @limit;"; // 2: the sequence
            }
            cmd.Parameters.AddWithValue("limit", query.Limit);
            return await ReadCasesAsync(cmd, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (PostgresDatabase.IsStorage(ex))
        {
            throw db.AsIo(ex);
        }
    }

    public async Task<IReadOnlyList<CaseCount>> CountAsync(IReadOnlySet<CaseState>? states, DateTimeOffset? reportedFrom, CancellationToken ct)
    {
        if (states is { Count: 0 }) return [];
        try
        {
            await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand { Connection = conn };
            var where = new List<string>();
            if (states is not null) where.Add($"c.state IN ({string.Join(", ", states.Select(s => (int)s))})");
            if (reportedFrom is { } from)
            {
                where.Add("c.opened_at_ms >= @from");
                cmd.Parameters.AddWithValue("from", from.ToUnixTimeMilliseconds());
            }
            cmd.CommandText = $"""
                SELECT c.state, c.case_type, c.group_id, COUNT(*)
                FROM cases c {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
                GROUP BY c.state, c.case_type, c.group_id;
                """;
            var cells = new List<(CaseState State, string Type, string Group, long Count)>();
            await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
                while (await r.ReadAsync(ct).ConfigureAwait(false))
                    cells.Add(((CaseState)r.GetInt32(0), r.GetString(1), r.GetString(2), r.GetInt64(3)));
            var names = await TypeNamesAsync(conn, ct).ConfigureAwait(false);
            return cells.Select(c =>
            {
                var (zh, en) = names.GetValueOrDefault(c.Type, ("", ""));
                return new CaseCount(c.State, c.Type, c.Group, (int)c.Count, zh, en);
            }).ToList();
        }
        catch (Exception ex) when (PostgresDatabase.IsStorage(ex))
        {
            throw db.AsIo(ex);
        }
    }

    /// <summary>Each type's names as its newest case has them.</summary>
    private static async Task<Dictionary<string, (string Zh, string En)>> TypeNamesAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT DISTINCT ON (case_type) case_type, case_type_name_zh, case_type_name_en
            FROM cases ORDER BY case_type, sequence DESC NULLS LAST;
            """, conn);
        var names = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false)) names[r.GetString(0)] = (r.GetString(1), r.GetString(2));
        return names;
    }

    public async Task<IReadOnlyList<CaseDecision>> DecidedAsync(DateTimeOffset closedFrom, CancellationToken ct)
    {
        try
        {
            await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
            // closed_at_ms is set by closing and by rejecting; the range walks cases_closed_at, which holds every column read.
            await using var cmd = new NpgsqlCommand("""
                SELECT c.case_type, c.group_id, c.state, c.opened_at_ms, c.closed_at_ms, c.closed_gone
                FROM cases c WHERE c.closed_at_ms >= @from AND c.state IN (3, 4) ORDER BY c.closed_at_ms;
                """, conn);
            cmd.Parameters.AddWithValue("from", closedFrom.ToUnixTimeMilliseconds());
            var list = new List<CaseDecision>();
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
                list.Add(new CaseDecision(r.GetString(0), r.GetString(1), (CaseState)r.GetInt32(2),
                    DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)), r.GetBoolean(5)));
            return list;
        }
        catch (Exception ex) when (PostgresDatabase.IsStorage(ex))
        {
            throw db.AsIo(ex);
        }
    }

    /// <summary>The cases a command selected with <see cref="PostgresCaseRow.ColumnsWith"/>, in its order.</summary>
    public static async Task<IReadOnlyList<Case>> ReadCasesAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<Case>();
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false)) list.Add(PostgresCaseRow.Read(r));
        return list;
    }
}
