using CitySight.Domain;

namespace CitySight.Cases.Sqlite;

/// <summary>
/// The console's reads, each answered from an index (schema version 6) so a store of 10,000+ cases answers in
/// milliseconds: the newest cases by state, type and group; counts by state, type and group (GROUP BY); the cases
/// closed or rejected since a time. Reads run on their own pooled connections beside the writer (WAL).
/// </summary>
internal sealed class SqliteCaseQueries(SqliteDatabase db)
{
    private static readonly CaseState[] EveryState = Enum.GetValues<CaseState>();

    public Task<IReadOnlyList<Case>> NewestAsync(CaseQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Limit, CaseQuery.MaxLimit);
        ct.ThrowIfCancellationRequested();
        var states = (query.States ?? (IEnumerable<CaseState>)EveryState).Distinct().Order().ToList();
        if (states.Count == 0) return Task.FromResult<IReadOnlyList<Case>>([]);

        using var conn = db.Connect();
        using var cmd = conn.CreateCommand();
        var filter = "";
        if (!string.IsNullOrEmpty(query.CaseType))
        {
            filter += " AND c.case_type = $type";
            cmd.Parameters.AddWithValue("$type", query.CaseType);
        }
        if (!string.IsNullOrEmpty(query.GroupId))
        {
            filter += " AND c.group_id = $group";
            cmd.Parameters.AddWithValue("$group", query.GroupId);
        }
        // One walk per state down its (state[, type | group], sequence) index, at most the limit each, then the newest
        // of those: "state IN (...) ORDER BY sequence" would read and sort every open case instead.
        var walks = states.Select(s =>
            $"SELECT * FROM (SELECT {CaseRow.Columns} FROM cases c WHERE c.state = {(int)s}{filter} ORDER BY c.sequence DESC LIMIT $limit)");
        cmd.CommandText = string.Join("\nUNION ALL\n", walks) + "\nORDER BY 2 DESC LIMIT $limit;";   // 2: the sequence
        cmd.Parameters.AddWithValue("$limit", query.Limit);
        var list = new List<Case>(query.Limit);
        using var r = cmd.ExecuteReader();
        while (r.Read()) list.Add(CaseRow.Read(r, evidence: null));
        return Task.FromResult<IReadOnlyList<Case>>(list);
    }

    public Task<IReadOnlyList<CaseCount>> CountAsync(IReadOnlySet<CaseState>? states, DateTimeOffset? reportedFrom, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (states is { Count: 0 }) return Task.FromResult<IReadOnlyList<CaseCount>>([]);
        using var conn = db.Connect();
        using var cmd = conn.CreateCommand();
        var where = new List<string>();
        if (states is not null) where.Add($"c.state IN ({string.Join(", ", states.Select(s => (int)s))})");
        if (reportedFrom is { } from)
        {
            where.Add("c.opened_at_ms >= $from");
            cmd.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        }
        // SQLite gives the bare name columns from the row holding MAX(sequence): the newest case's names for the cell.
        cmd.CommandText = $"""
            SELECT c.state, c.case_type, c.group_id, COUNT(*), MAX(c.sequence), c.case_type_name_zh, c.case_type_name_en
            FROM cases c {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
            GROUP BY c.state, c.case_type, c.group_id;
            """;
        var list = new List<CaseCount>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
            list.Add(new CaseCount((CaseState)r.GetInt32(0), r.GetString(1), r.GetString(2), r.GetInt32(3), r.GetString(5), r.GetString(6)));
        return Task.FromResult<IReadOnlyList<CaseCount>>(list);
    }

    public Task<IReadOnlyList<CaseDecision>> DecidedAsync(DateTimeOffset closedFrom, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var conn = db.Connect();
        using var cmd = conn.CreateCommand();
        // closed_at_ms is set by closing and by rejecting; the range walks cases_closed_at.
        cmd.CommandText = """
            SELECT c.case_type, c.group_id, c.state, c.opened_at_ms, c.closed_at_ms, c.closed_gone
            FROM cases c WHERE c.closed_at_ms >= $from AND c.state IN (3, 4) ORDER BY c.closed_at_ms;
            """;
        cmd.Parameters.AddWithValue("$from", closedFrom.ToUnixTimeMilliseconds());
        var list = new List<CaseDecision>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
            list.Add(new CaseDecision(r.GetString(0), r.GetString(1), (CaseState)r.GetInt32(2),
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)), r.GetInt64(5) != 0));
        return Task.FromResult<IReadOnlyList<CaseDecision>>(list);
    }
}
