using CitySight.Domain;
using Npgsql;
using NpgsqlTypes;

namespace CitySight.Cases.Postgres;

/// <summary>
/// The one mapping between a <see cref="Case"/> and its row in PostgreSQL's <c>cases</c>, as <c>CaseRow</c> is for
/// SQLite: the columns read, the insert, and the reading back. The best view is a row of <c>evidence</c>, joined when asked for.
/// </summary>
internal static class PostgresCaseRow
{
    /// <summary>The select list, in the order <see cref="Read"/> reads it; the table is aliased <c>c</c>.</summary>
    public const string Columns = """
        c.id, c.sequence, c.case_type, c.camera_id, c.group_id, c.case_type_code, c.case_type_name_zh, c.case_type_name_en,
        c.district, c.street, c.grid, c.responsible_unit, c.zone, c.latitude, c.longitude,
        c.first_seen_ticks, c.first_seen_offset, c.last_seen_ticks, c.last_seen_offset, c.confidence,
        c.box_x1, c.box_y1, c.box_x2, c.box_y2, c.image_width, c.image_height, c.class_name, c.has_evidence,
        c.state, c.opened_at_ms, c.acknowledged_at_ms, c.closed_at_ms, c.state_note, c.raised_ticks, c.raised_offset
        """;

    /// <summary>The columns plus the best view (or NULL): join with <see cref="BestViewJoin"/>.</summary>
    public static string ColumnsWith(bool evidence) => Columns + (evidence ? ", e.jpeg" : ", NULL::bytea");

    /// <summary>What <see cref="ColumnsWith"/> needs when evidence is asked for.</summary>
    public static string BestViewJoin(bool evidence) =>
        evidence ? $"LEFT JOIN evidence e ON e.case_id = c.id AND e.view = {(int)EvidenceView.Best}" : "";

    /// <summary>How many columns <see cref="ColumnsWith"/> has: what a query selects after them starts at this ordinal.</summary>
    public const int ColumnCount = 36;

    private const string InsertSql = """
        INSERT INTO cases (id, sequence, case_type, camera_id, group_id, case_type_code, case_type_name_zh, case_type_name_en,
            district, street, grid, responsible_unit, zone, latitude, longitude,
            first_seen_ticks, first_seen_offset, last_seen_ticks, last_seen_offset, confidence,
            box_x1, box_y1, box_x2, box_y2, image_width, image_height, class_name, has_evidence,
            state, opened_at_ms, acknowledged_at_ms, closed_at_ms, state_note, raised_ticks, raised_offset, updated_at_ms, node_id)
        VALUES (@id, NULL, @case_type, @camera_id, @group_id, @code, @name_zh, @name_en,
            @district, @street, @grid, @unit, @zone, @lat, @lon,
            @fs_ticks, @fs_offset, @ls_ticks, @ls_offset, @confidence,
            @x1, @y1, @x2, @y2, @w, @h, @class_name, @has_evidence,
            @state, @opened_ms, NULL, NULL, '', @r_ticks, @r_offset, @opened_ms, @node)
        ON CONFLICT (id) DO NOTHING;
        """;

    /// <summary>
    /// Inserts <paramref name="c"/> as a reported case without a sequence yet (set in the same transaction); false when
    /// a case with its id exists already (nothing is written then).
    /// </summary>
    public static async Task<bool> InsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Case c, long nowMs, string nodeId)
    {
        await using var insert = new NpgsqlCommand(InsertSql, conn, tx);
        var p = insert.Parameters;
        p.AddWithValue("id", c.Id);
        p.AddWithValue("case_type", c.CaseType ?? "");
        p.AddWithValue("camera_id", c.CameraId ?? "");
        p.AddWithValue("group_id", c.GroupId ?? "");
        p.AddWithValue("code", c.CaseTypeCode ?? "");
        p.AddWithValue("name_zh", c.CaseTypeNameZh ?? "");
        p.AddWithValue("name_en", c.CaseTypeNameEn ?? "");
        p.AddWithValue("district", c.District ?? "");
        p.AddWithValue("street", c.Street ?? "");
        p.AddWithValue("grid", c.Grid ?? "");
        p.AddWithValue("unit", c.ResponsibleUnit ?? "");
        p.AddWithValue("zone", c.Zone ?? "");
        p.AddWithValue("lat", c.Latitude);
        p.AddWithValue("lon", c.Longitude);
        p.AddWithValue("fs_ticks", c.FirstSeen.UtcTicks);
        p.AddWithValue("fs_offset", OffsetMinutes(c.FirstSeen));
        p.AddWithValue("ls_ticks", c.LastSeen.UtcTicks);
        p.AddWithValue("ls_offset", OffsetMinutes(c.LastSeen));
        p.AddWithValue("confidence", (double)c.Confidence);
        p.AddWithValue("x1", (double)c.Box.X1);
        p.AddWithValue("y1", (double)c.Box.Y1);
        p.AddWithValue("x2", (double)c.Box.X2);
        p.AddWithValue("y2", (double)c.Box.Y2);
        p.AddWithValue("w", c.ImageWidth);
        p.AddWithValue("h", c.ImageHeight);
        p.AddWithValue("class_name", c.ClassName ?? "");
        p.AddWithValue("has_evidence", c.Evidence is { Length: > 0 });
        p.AddWithValue("state", (int)CaseState.Reported);
        p.AddWithValue("opened_ms", nowMs);
        p.Add(PostgresDatabase.Param("r_ticks", NpgsqlDbType.Bigint, c.RaisedAt?.UtcTicks));
        p.Add(PostgresDatabase.Param("r_offset", NpgsqlDbType.Integer, c.RaisedAt is { } ro ? OffsetMinutes(ro) : null));
        p.AddWithValue("node", nodeId);
        return await insert.ExecuteNonQueryAsync().ConfigureAwait(false) == 1;
    }

    /// <summary>The case in the reader's current row (selected with <see cref="ColumnsWith"/>); the best view when it was joined.</summary>
    public static Case Read(NpgsqlDataReader r) =>
        // 27: has_evidence, for retention; the picture itself is the joined column.
        CaseColumns.Read(r, r.IsDBNull(35) ? [] : r.GetFieldValue<byte[]>(35));

    private static int OffsetMinutes(DateTimeOffset t) => (int)t.Offset.TotalMinutes;
}
