using CitySight.Domain;
using Microsoft.Data.Sqlite;

namespace CitySight.Cases.Sqlite;

/// <summary>
/// The one mapping between a <see cref="Case"/> and its row in <c>cases</c>: the columns read, the insert, and both
/// directions. Times keep their offset (UTC ticks + offset minutes); the lifecycle times are wall-clock milliseconds.
/// The pictures are files: the row keeps the best view's path, the other views follow from the id.
/// </summary>
internal static class CaseRow
{
    /// <summary>The select list, in the order <see cref="Read"/> reads it; the table is aliased <c>c</c>.</summary>
    public const string Columns = """
        c.id, c.sequence, c.case_type, c.camera_id, c.group_id, c.case_type_code, c.case_type_name_zh, c.case_type_name_en,
        c.district, c.street, c.grid, c.responsible_unit, c.zone, c.latitude, c.longitude,
        c.first_seen_ticks, c.first_seen_offset, c.last_seen_ticks, c.last_seen_offset, c.confidence,
        c.box_x1, c.box_y1, c.box_x2, c.box_y2, c.image_width, c.image_height, c.class_name, c.evidence_path,
        c.state, c.opened_at_ms, c.acknowledged_at_ms, c.closed_at_ms, c.state_note, c.raised_ticks, c.raised_offset
        """;

    /// <summary>How many columns <see cref="Columns"/> has: what a query selects after them starts at this ordinal.</summary>
    public const int ColumnCount = 35;

    private const int EvidencePathOrdinal = 27;

    private const string InsertSql = """
        INSERT INTO cases (id, sequence, case_type, camera_id, group_id, case_type_code, case_type_name_zh, case_type_name_en,
            district, street, grid, responsible_unit, zone, latitude, longitude,
            first_seen_ticks, first_seen_offset, last_seen_ticks, last_seen_offset, confidence,
            box_x1, box_y1, box_x2, box_y2, image_width, image_height, class_name, evidence_path,
            state, opened_at_ms, acknowledged_at_ms, closed_at_ms, state_note, raised_ticks, raised_offset, updated_at_ms)
        VALUES ($id, $sequence, $case_type, $camera_id, $group_id, $code, $name_zh, $name_en,
            $district, $street, $grid, $unit, $zone, $lat, $lon,
            $fs_ticks, $fs_offset, $ls_ticks, $ls_offset, $confidence,
            $x1, $y1, $x2, $y2, $w, $h, $class_name, $evidence_path,
            $state, $opened_ms, $acked_ms, $closed_ms, $note, $r_ticks, $r_offset, $now);
        """;

    /// <summary>
    /// Inserts <paramref name="c"/> as a row inside <paramref name="tx"/>. A <see cref="Case.Sequence"/> of 0 is stored
    /// as none (NULL); <paramref name="evidencePath"/> is the best view's path relative to the data folder, or null.
    /// </summary>
    public static void Insert(SqliteConnection conn, SqliteTransaction tx, Case c, string? evidencePath, long nowMs)
    {
        using var insert = conn.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = InsertSql;
        var p = insert.Parameters;
        p.AddWithValue("$id", c.Id);
        p.AddWithValue("$sequence", c.Sequence > 0 ? c.Sequence : DBNull.Value);
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
        p.AddWithValue("$fs_offset", OffsetMinutes(c.FirstSeen));
        p.AddWithValue("$ls_ticks", c.LastSeen.UtcTicks);
        p.AddWithValue("$ls_offset", OffsetMinutes(c.LastSeen));
        p.AddWithValue("$confidence", (double)c.Confidence);
        p.AddWithValue("$x1", (double)c.Box.X1);
        p.AddWithValue("$y1", (double)c.Box.Y1);
        p.AddWithValue("$x2", (double)c.Box.X2);
        p.AddWithValue("$y2", (double)c.Box.Y2);
        p.AddWithValue("$w", c.ImageWidth);
        p.AddWithValue("$h", c.ImageHeight);
        p.AddWithValue("$class_name", c.ClassName ?? "");
        p.AddWithValue("$evidence_path", (object?)evidencePath ?? DBNull.Value);
        p.AddWithValue("$state", (int)c.State);
        p.AddWithValue("$opened_ms", c.ReportedAt?.ToUnixTimeMilliseconds() ?? nowMs);
        p.AddWithValue("$acked_ms", Millis(c.AcknowledgedAt));
        p.AddWithValue("$closed_ms", Millis(c.ClosedAt));
        p.AddWithValue("$note", c.StateNote ?? "");
        p.AddWithValue("$r_ticks", c.RaisedAt is { } raised ? raised.UtcTicks : DBNull.Value);
        p.AddWithValue("$r_offset", c.RaisedAt is { } ro ? OffsetMinutes(ro) : DBNull.Value);
        p.AddWithValue("$now", nowMs);
        insert.ExecuteNonQuery();
    }

    /// <summary>
    /// The case in the reader's current row (selected with <see cref="Columns"/>). <paramref name="evidence"/> loads the
    /// best view from the row's path; null leaves <see cref="Case.Evidence"/> empty. The crop is never read with a row.
    /// </summary>
    public static Case Read(SqliteDataReader r, Func<string, byte[]>? evidence)
    {
        var evidencePath = EvidencePath(r);
        return CaseColumns.Read(r, evidence is not null && evidencePath is not null ? evidence(evidencePath) : []);
    }

    /// <summary>The best view's path in the reader's current row, relative to the data folder; null when it has none.</summary>
    public static string? EvidencePath(SqliteDataReader r) => r.IsDBNull(EvidencePathOrdinal) ? null : r.GetString(EvidencePathOrdinal);

    private static long OffsetMinutes(DateTimeOffset t) => (long)t.Offset.TotalMinutes;

    private static object Millis(DateTimeOffset? t) => t is { } v ? v.ToUnixTimeMilliseconds() : DBNull.Value;
}
