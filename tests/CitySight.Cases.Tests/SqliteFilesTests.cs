using CitySight.Cases.Sqlite;
using CitySight.Domain;
using CitySight.Tests;
using Microsoft.Data.Sqlite;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Cases.Tests;

/// <summary>What only the SQLite store promises: its files on disk, and migrating a file an older build made.</summary>
public sealed class SqliteFilesTests : IDisposable
{
    private static readonly DateTimeOffset At = new(2026, 11, 23, 9, 0, 0, TimeSpan.FromHours(8));
    private readonly string _data = TestAssets.TempDir("sqlite-files");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task Creates_database_in_wal_mode_and_evidence_folder()
    {
        using var store = new SqliteCaseStore(_data);
        await store.OpenAsync(Case(1));
        Assert.True(File.Exists(Path.Combine(_data, "citysight.db")));
        Assert.True(File.Exists(Path.Combine(_data, "citysight.db-wal")), "WAL mode keeps a -wal file beside the database");
        Assert.True(Directory.Exists(Path.Combine(_data, "evidence")));
        Assert.Equal(Path.Combine(_data, "citysight.db"), store.DatabasePath);
        Assert.Equal(Path.Combine(_data, "evidence"), store.EvidenceFolder);
    }

    [Fact]
    public async Task Each_picture_is_one_jpeg_named_for_its_case_and_view()
    {
        using var store = new SqliteCaseStore(_data);
        var c = await store.OpenAsync(Case(7) with { EvidenceCrop = Jpeg(70) });
        await store.UpdateSightingAsync(c.Id, c.LastSeen.AddMinutes(1), 0.9f, Jpeg(71), Jpeg(72));

        var evidence = Path.Combine(_data, "evidence");
        Assert.Equal(Jpeg(71), File.ReadAllBytes(Path.Combine(evidence, c.Id + ".jpg")));
        Assert.Equal(Jpeg(72), File.ReadAllBytes(Path.Combine(evidence, c.Id + "-crop.jpg")));
        Assert.Equal(c.Evidence, File.ReadAllBytes(Path.Combine(evidence, c.Id + "-first.jpg")));
        Assert.Equal(Jpeg(70), File.ReadAllBytes(Path.Combine(evidence, c.Id + "-first-crop.jpg")));
        Assert.Empty(Directory.EnumerateFiles(evidence, "*.tmp"));
    }

    [Fact]
    public async Task A_new_file_is_at_the_newest_schema_version()
    {
        using (var store = new SqliteCaseStore(_data)) await store.OpenAsync(Case(1));
        SqliteConnection.ClearAllPools();

        using var conn = new SqliteConnection($"Data Source={Path.Combine(_data, SqliteCaseStore.DatabaseFileName)}");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "PRAGMA user_version;";
        Assert.Equal((long)SqliteSchema.Version, (long)cmd.ExecuteScalar()!);
        Assert.Equal(6, SqliteSchema.Version);
    }

    [Fact]
    public async Task A_store_made_before_the_lifecycle_is_migrated_and_its_cases_count_as_reported()
    {
        var dir = TestAssets.TempDir("lifecycle-v1");
        // The first schema, as the first build created it.
        using (var conn = new SqliteConnection($"Data Source={Path.Combine(dir, SqliteCaseStore.DatabaseFileName)}"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = """
                CREATE TABLE cases (id TEXT PRIMARY KEY, sequence INTEGER UNIQUE, case_type TEXT NOT NULL, camera_id TEXT NOT NULL,
                  group_id TEXT NOT NULL, case_type_code TEXT NOT NULL, case_type_name_zh TEXT NOT NULL, case_type_name_en TEXT NOT NULL,
                  district TEXT NOT NULL, street TEXT NOT NULL, grid TEXT NOT NULL, responsible_unit TEXT NOT NULL, zone TEXT NOT NULL,
                  latitude REAL NOT NULL, longitude REAL NOT NULL, first_seen_ticks INTEGER NOT NULL, first_seen_offset INTEGER NOT NULL,
                  last_seen_ticks INTEGER NOT NULL, last_seen_offset INTEGER NOT NULL, confidence REAL NOT NULL,
                  box_x1 REAL NOT NULL, box_y1 REAL NOT NULL, box_x2 REAL NOT NULL, box_y2 REAL NOT NULL,
                  image_width INTEGER NOT NULL, image_height INTEGER NOT NULL, class_name TEXT NOT NULL, evidence_path TEXT,
                  opened_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL);
                CREATE TABLE feed (sequence INTEGER PRIMARY KEY AUTOINCREMENT, kind INTEGER NOT NULL, case_id TEXT NOT NULL REFERENCES cases(id),
                  recorded_at_ms INTEGER NOT NULL);
                INSERT INTO cases VALUES ('old-1', 1, 'illegal_parking', 'cam-1', 'g', '0302', '机动车乱停放', 'Parked', 'd', 's', 'g1', 'u', 'z',
                  31.2, 121.4, 638000000000000000, 480, 638000000000000000, 480, 0.7, 1, 2, 3, 4, 640, 480, 'car', NULL, 1700000000000, 1700000000000);
                INSERT INTO feed (kind, case_id, recorded_at_ms) VALUES (1, 'old-1', 1700000000000);
                PRAGMA user_version = 1;
                """;
            cmd.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();

        using var store = new SqliteCaseStore(dir);
        var old = (await store.GetAsync("old-1"))!;

        Assert.Equal(CaseState.Reported, old.State);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1700000000000), old.ReportedAt);
        Assert.Null(old.RaisedAt);   // not kept then
        Assert.Equal(CaseState.Closed, (await store.TransitionAsync("old-1", CaseState.Closed, At)).State);
        Assert.Equal(2, store.LastSequence);   // the closure is the feed's second event
        var added = await store.OpenAsync(Case(2) with { RaisedAt = At });   // the columns added since are there
        Assert.Equal(At, (await store.GetAsync(added.Id))!.RaisedAt);
    }

    [Fact]
    public async Task A_version_5_store_gets_the_console_indexes_and_its_gone_closures_marked()
    {
        // A store as version 5 left it: no indexes for the console, no closed_gone column; CitySight's own closures
        // said "gone:" in their note.
        string gone, decided;
        using (var store = new SqliteCaseStore(_data))
        {
            gone = (await store.OpenAsync(Case(1))).Id;
            decided = (await store.OpenAsync(Case(2))).Id;
            await store.TransitionAsync(gone, CaseState.Closed, At, "gone: no camera has seen it since 08:10; closed by CitySight");
            await store.TransitionAsync(decided, CaseState.Closed, At, "towed");
        }
        SqliteConnection.ClearAllPools();
        using (var conn = new SqliteConnection($"Data Source={Path.Combine(_data, SqliteCaseStore.DatabaseFileName)}"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = """
                DROP INDEX cases_state_sequence; DROP INDEX cases_type_state_sequence; DROP INDEX cases_group_state_sequence;
                DROP INDEX cases_opened_at; DROP INDEX cases_closed_at; DROP INDEX cases_state_type_group; DROP INDEX cases_raised_at;
                ALTER TABLE cases DROP COLUMN closed_gone;
                PRAGMA user_version = 5;
                """;
            cmd.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();

        using (var store = new SqliteCaseStore(_data))
        {
            var ends = await store.DecidedAsync(At.AddMinutes(-1));
            Assert.Equal([true, false], ends.OrderBy(d => d.ClosedByCitySight ? 0 : 1).Select(d => d.ClosedByCitySight));
        }
        SqliteConnection.ClearAllPools();
        using var check = new SqliteConnection($"Data Source={Path.Combine(_data, SqliteCaseStore.DatabaseFileName)}");
        check.Open();
        using var indexes = check.CreateCommand();
        indexes.CommandText = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cases' AND name LIKE 'cases_%' ORDER BY name;";
        var names = new List<string>();
        using (var r = indexes.ExecuteReader())
            while (r.Read()) names.Add(r.GetString(0));
        Assert.Equal(["cases_closed_at", "cases_group_state_sequence", "cases_last_seen", "cases_opened_at", "cases_raised_at",
            "cases_state_sequence", "cases_state_type_group", "cases_type_state_sequence"], names);
    }
}
