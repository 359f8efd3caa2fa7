using Microsoft.Data.Sqlite;

namespace CitySight.Cases.Sqlite;

/// <summary>
/// The store's tables (version 1 as the first build made them) and the migrations since, applied in order to a store
/// made by an older build; <c>PRAGMA user_version</c> says how far a file has come.
/// </summary>
internal static class SqliteSchema
{
    /// <summary>The version a file is at once <see cref="CreateOrMigrate"/> has run.</summary>
    public static int Version => Migrations.Length + 1;

    private const string Tables = """
        CREATE TABLE IF NOT EXISTS cases (
            id                  TEXT PRIMARY KEY,
            sequence            INTEGER UNIQUE,
            case_type           TEXT NOT NULL,
            camera_id           TEXT NOT NULL,
            group_id            TEXT NOT NULL,
            case_type_code      TEXT NOT NULL,
            case_type_name_zh   TEXT NOT NULL,
            case_type_name_en   TEXT NOT NULL,
            district            TEXT NOT NULL,
            street              TEXT NOT NULL,
            grid                TEXT NOT NULL,
            responsible_unit    TEXT NOT NULL,
            zone                TEXT NOT NULL,
            latitude            REAL NOT NULL,
            longitude           REAL NOT NULL,
            first_seen_ticks    INTEGER NOT NULL,  -- UTC ticks: sortable and exact
            first_seen_offset   INTEGER NOT NULL,  -- minutes, to give back the offset the case was raised with
            last_seen_ticks     INTEGER NOT NULL,
            last_seen_offset    INTEGER NOT NULL,
            confidence          REAL NOT NULL,
            box_x1 REAL NOT NULL, box_y1 REAL NOT NULL, box_x2 REAL NOT NULL, box_y2 REAL NOT NULL,
            image_width         INTEGER NOT NULL,
            image_height        INTEGER NOT NULL,
            class_name          TEXT NOT NULL,
            evidence_path       TEXT,              -- relative to the data folder; NULL when the case has no evidence
            opened_at_ms        INTEGER NOT NULL,  -- wall clock of the commit, for operations
            updated_at_ms       INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS cases_last_seen ON cases(last_seen_ticks);
        -- Append-only outbox. AUTOINCREMENT: a sequence is never reused, even if rows are ever pruned.
        CREATE TABLE IF NOT EXISTS feed (
            sequence        INTEGER PRIMARY KEY AUTOINCREMENT,
            kind            INTEGER NOT NULL,      -- 1 = opened (later: updated, closed...)
            case_id         TEXT NOT NULL REFERENCES cases(id),
            recorded_at_ms  INTEGER NOT NULL
        );
        """;

    /// <summary>Schema changes after version 1, applied in order to a store made by an older build.</summary>
    private static readonly string[] Migrations =
    [
        // 2: case lifecycle. Existing cases were reported when they were committed.
        """
        ALTER TABLE cases ADD COLUMN state INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE cases ADD COLUMN acknowledged_at_ms INTEGER;
        ALTER TABLE cases ADD COLUMN closed_at_ms INTEGER;
        ALTER TABLE cases ADD COLUMN state_note TEXT NOT NULL DEFAULT '';
        """,
        // 3: the frame time the rules raised the case (NULL for cases stored before: read as first seen).
        """
        ALTER TABLE cases ADD COLUMN raised_ticks INTEGER;
        ALTER TABLE cases ADD COLUMN raised_offset INTEGER;
        """,
        // 4: each consumer's acknowledged position in the feed (at-least-once delivery resumes after it).
        """
        CREATE TABLE consumers (
            name            TEXT PRIMARY KEY,
            acked_sequence  INTEGER NOT NULL,
            acked_at_ms     INTEGER NOT NULL
        );
        """,
        // 5: the last sighting announced on the feed, so updates go out at a steady pace, not with every frame.
        """
        ALTER TABLE cases ADD COLUMN announced_seen_ticks INTEGER;
        """,
        // 6: the console's reads from indexes (10,000+ cases answer in milliseconds, never a read of the whole table):
        // newest first by state, by type and state, by group and state, raised within a time range; counts by state, type and group, and of those
        // reported since a time, from the index alone; the cases closed since a time with what their outcome figures
        // need, from the index alone. And whether CitySight closed a case itself (gone from every camera) rather than
        // dispatch: the rules' closing note said so before (its fixed "gone:" prefix), so cases closed before are marked from it.
        """
        ALTER TABLE cases ADD COLUMN closed_gone INTEGER NOT NULL DEFAULT 0;
        UPDATE cases SET closed_gone = 1 WHERE state = 3 AND state_note LIKE 'gone:%';
        CREATE INDEX cases_state_sequence ON cases(state, sequence);
        CREATE INDEX cases_type_state_sequence ON cases(case_type, state, sequence);
        CREATE INDEX cases_group_state_sequence ON cases(group_id, state, sequence);
        CREATE INDEX cases_state_type_group ON cases(state, case_type, group_id);
        CREATE INDEX cases_raised_at ON cases(COALESCE(raised_ticks, first_seen_ticks), state);
        CREATE INDEX cases_opened_at ON cases(opened_at_ms, state, case_type, group_id);
        CREATE INDEX cases_closed_at ON cases(closed_at_ms, state, case_type, group_id, opened_at_ms, closed_gone) WHERE closed_at_ms IS NOT NULL;
        """,
    ];

    /// <summary>Creates the version 1 tables where there are none, then applies every migration the file lacks.</summary>
    public static void CreateOrMigrate(SqliteConnection conn)
    {
        SqliteDatabase.Execute(conn, Tables);
        var version = SqliteDatabase.Scalar<long>(conn, "PRAGMA user_version;");
        if (version == 0) version = 1; // made by the CREATE above or by the first build
        for (var v = version; v <= Migrations.Length; v++)
        {
            using var tx = conn.BeginTransaction();
            using (var cmd = conn.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = Migrations[v - 1] + $"PRAGMA user_version = {v + 1};";
                cmd.ExecuteNonQuery();
            }
            tx.Commit();
        }
    }
}
