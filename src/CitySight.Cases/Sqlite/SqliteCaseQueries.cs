using CitySight.Domain;
using Microsoft.Data.Sqlite;

namespace CitySight.Cases.Sqlite;

/// <summary>
/// The console's reads, each answered from an index (schema version 6) so a store of 10,000+ cases answers in
/// milliseconds: the newest cases by state, type, group, camera and raised time; counts by state, type and group (GROUP BY); the cases
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
        if (!string.IsNullOrEmpty(query.CameraId))
        {
            // A camera's page: its cases are a few among the district's, filtered on the state walks below (no index of
            // its own: a 10,000-case store answers in milliseconds, see WallLoadBudgetTests).
            filter += " AND c.camera_id = $camera";
            cmd.Parameters.AddWithValue("$camera", query.CameraId);
        }
        if (query.RaisedSince is not null || query.RaisedUntil is not null)
        {
            // Raised within a time range (a day, a week): that range of cases_raised_at, its few cases sorted. The
            // expression is the index's, word for word (raised at, or first seen for cases stored before it was kept).
            cmd.CommandText = $"""
                SELECT {CaseRow.Columns} FROM cases c INDEXED BY cases_raised_at
                WHERE COALESCE(c.raised_ticks, c.first_seen_ticks) BETWEEN $since AND $until
                  AND c.state IN ({string.Join(", ", states.Select(s => (int)s))}){filter}
                ORDER BY c.sequence DESC LIMIT $limit;
                """;
            cmd.Parameters.AddWithValue("$since", query.RaisedSince?.UtcTicks ?? long.MinValue);
            cmd.Parameters.AddWithValue("$until", query.RaisedUntil?.UtcTicks ?? long.MaxValue);
        }
        else
        {
            // One walk per state down its (state[, type | group], sequence) index, at most the limit each, then the
            // newest of those: "state IN (...) ORDER BY sequence" would read and sort every open case instead.
            var walks = states.Select(s =>
                $"SELECT * FROM (SELECT {CaseRow.Columns} FROM cases c WHERE c.state = {(int)s}{filter} ORDER BY c.sequence DESC LIMIT $limit)");
            cmd.CommandText = string.Join("\nUNION ALL\n", walks) + "\nORDER BY 2 DESC LIMIT $limit;";   // 2: the sequence
        }
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
        // Counted from an index alone (no row is read): reported since a time walks its range of cases_opened_at (a day,
        // a week), by state cases_state_type_group. Named, so the planner never prefers a scan it cannot judge without
        // statistics.
        var index = reportedFrom is not null ? "cases_opened_at" : states is not null ? "cases_state_type_group" : null;
        cmd.CommandText = $"""
            SELECT c.state, c.case_type, c.group_id, COUNT(*)
            FROM cases c {(index is null ? "" : "INDEXED BY " + index)} {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
            GROUP BY c.state, c.case_type, c.group_id;
            """;
        var cells = new List<(CaseState State, string Type, string Group, int Count)>();
        using (var r = cmd.ExecuteReader())
            while (r.Read()) cells.Add(((CaseState)r.GetInt32(0), r.GetString(1), r.GetString(2), r.GetInt32(3)));
        var names = TypeNames(conn);
        return Task.FromResult<IReadOnlyList<CaseCount>>(cells.Select(c =>
        {
            var (zh, en) = names.GetValueOrDefault(c.Type, ("", ""));
            return new CaseCount(c.State, c.Type, c.Group, c.Count, zh, en);
        }).ToList());
    }

    /// <summary>Each type's names as its newest case has them: one row read per type (the newest found in cases_type_state_sequence).</summary>
    private static Dictionary<string, (string Zh, string En)> TypeNames(SqliteConnection conn)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            SELECT c.case_type, c.case_type_name_zh, c.case_type_name_en
            FROM (SELECT case_type, MAX(sequence) AS newest FROM cases INDEXED BY cases_type_state_sequence GROUP BY case_type) t
            JOIN cases c ON c.sequence = t.newest;
            """;
        var names = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        using var r = cmd.ExecuteReader();
        while (r.Read()) names[r.GetString(0)] = (r.GetString(1), r.GetString(2));
        return names;
    }

    public Task<IReadOnlyList<CaseDecision>> DecidedAsync(DateTimeOffset closedFrom, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var conn = db.Connect();
        using var cmd = conn.CreateCommand();
        // closed_at_ms is set by closing and by rejecting; the range walks cases_closed_at, which holds every column read.
        cmd.CommandText = """
            SELECT c.case_type, c.group_id, c.state, c.opened_at_ms, c.closed_at_ms, c.closed_gone
            FROM cases c INDEXED BY cases_closed_at WHERE c.closed_at_ms >= $from AND c.state IN (3, 4) ORDER BY c.closed_at_ms;
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
