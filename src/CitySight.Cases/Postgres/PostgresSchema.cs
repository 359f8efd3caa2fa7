using Npgsql;

namespace CitySight.Cases.Postgres;

/// <summary>
/// The store's tables in PostgreSQL and the migrations since, applied in order on open; <c>citysight_schema</c> says how
/// far a database has come. Several nodes may open the store at once: the migration runs under a session advisory lock,
/// so one node migrates and the others find it done.
/// </summary>
internal static class PostgresSchema
{
    /// <summary>The advisory lock key of the migration (any constant the database's other users do not take).</summary>
    private const long MigrationLock = 0x43_69_74_79_53_69_67; // "CitySig"

    /// <summary>The version a database is at once <see cref="CreateOrMigrate"/> has run.</summary>
    public static int Version => Migrations.Length;

    /// <summary>Every schema version, in order: version N is Migrations[N - 1].</summary>
    private static readonly string[] Migrations =
    [
        // 1: everything the SQLite store has at its version 6, plus the feed's head row and the pictures as rows.
        """
        CREATE TABLE cases (
            id                  text PRIMARY KEY,
            sequence            bigint UNIQUE,
            case_type           text NOT NULL,
            camera_id           text NOT NULL,
            group_id            text NOT NULL,
            case_type_code      text NOT NULL,
            case_type_name_zh   text NOT NULL,
            case_type_name_en   text NOT NULL,
            district            text NOT NULL,
            street              text NOT NULL,
            grid                text NOT NULL,
            responsible_unit    text NOT NULL,
            zone                text NOT NULL,
            latitude            double precision NOT NULL,
            longitude           double precision NOT NULL,
            first_seen_ticks    bigint NOT NULL,   -- UTC ticks: sortable and exact
            first_seen_offset   integer NOT NULL,  -- minutes, to give back the offset the case was raised with
            last_seen_ticks     bigint NOT NULL,
            last_seen_offset    integer NOT NULL,
            confidence          double precision NOT NULL,
            box_x1 double precision NOT NULL, box_y1 double precision NOT NULL,
            box_x2 double precision NOT NULL, box_y2 double precision NOT NULL,
            image_width         integer NOT NULL,
            image_height        integer NOT NULL,
            class_name          text NOT NULL,
            has_evidence        boolean NOT NULL,  -- whether the best view is kept (false once retention took it)
            state               integer NOT NULL,
            opened_at_ms        bigint NOT NULL,
            acknowledged_at_ms  bigint,
            closed_at_ms        bigint,
            state_note          text NOT NULL,
            raised_ticks        bigint,
            raised_offset       integer,
            announced_seen_ticks bigint,
            closed_gone         boolean NOT NULL DEFAULT false,
            updated_at_ms       bigint NOT NULL,
            node_id             text NOT NULL      -- the node that opened it (operations)
        );
        CREATE INDEX cases_last_seen ON cases(last_seen_ticks);
        CREATE INDEX cases_state_sequence ON cases(state, sequence);
        CREATE INDEX cases_type_state_sequence ON cases(case_type, state, sequence);
        CREATE INDEX cases_group_state_sequence ON cases(group_id, state, sequence);
        CREATE INDEX cases_state_type_group ON cases(state, case_type, group_id);
        CREATE INDEX cases_raised_at ON cases((COALESCE(raised_ticks, first_seen_ticks)), state);
        CREATE INDEX cases_opened_at ON cases(opened_at_ms, state, case_type, group_id);
        CREATE INDEX cases_closed_at ON cases(closed_at_ms, state, case_type, group_id, opened_at_ms, closed_gone) WHERE closed_at_ms IS NOT NULL;

        -- The outbox. Sequences come from feed_head (see PostgresCaseFeed.Append), never from a sequence object: they
        -- are handed out under that row's lock, so they become visible in order, without gaps.
        CREATE TABLE feed (
            sequence        bigint PRIMARY KEY,
            kind            integer NOT NULL,
            case_id         text NOT NULL REFERENCES cases(id),
            recorded_at_ms  bigint NOT NULL,
            node_id         text NOT NULL
        );
        CREATE TABLE feed_head (
            id    integer PRIMARY KEY CHECK (id = 1),
            last  bigint NOT NULL
        );
        INSERT INTO feed_head (id, last) VALUES (1, 0);

        CREATE TABLE consumers (
            name            text PRIMARY KEY,
            acked_sequence  bigint NOT NULL,
            acked_at_ms     bigint NOT NULL
        );

        -- The pictures, readable from every node: one row per case and view (EvidenceView as a number).
        CREATE TABLE evidence (
            case_id  text NOT NULL REFERENCES cases(id),
            view     smallint NOT NULL,
            jpeg     bytea NOT NULL,
            PRIMARY KEY (case_id, view)
        );
        """,
    ];

    /// <summary>Creates the tables where there are none and applies every migration the database lacks, under the migration lock.</summary>
    public static void CreateOrMigrate(NpgsqlConnection conn)
    {
        Execute(conn, $"SELECT pg_advisory_lock({MigrationLock});");
        try
        {
            Execute(conn, "CREATE TABLE IF NOT EXISTS citysight_schema (version integer NOT NULL);");
            using (var read = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM citysight_schema;", conn))
            {
                var version = Convert.ToInt32(read.ExecuteScalar());
                if (version > Migrations.Length)
                    throw new InvalidDataException($"the case database is at schema version {version}, newer than this build knows ({Migrations.Length}): upgrade CitySight");
                for (var v = version; v < Migrations.Length; v++)
                {
                    using var tx = conn.BeginTransaction();
                    using (var cmd = new NpgsqlCommand(Migrations[v] + $"\nDELETE FROM citysight_schema; INSERT INTO citysight_schema VALUES ({v + 1});", conn, tx))
                        cmd.ExecuteNonQuery();
                    tx.Commit();
                }
            }
        }
        finally
        {
            Execute(conn, $"SELECT pg_advisory_unlock({MigrationLock});");
        }
    }

    private static void Execute(NpgsqlConnection conn, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, conn);
        cmd.ExecuteNonQuery();
    }
}
