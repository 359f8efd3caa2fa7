using CitySight.Cases;
using CitySight.Domain;
using CitySight.Tests;
using Microsoft.Data.Sqlite;
using static CitySight.Delivery.Tests.Samples;

namespace CitySight.Delivery.Tests;

/// <summary>Reported → acknowledged → closed or rejected, with timestamps, in the real SQLite store.</summary>
public sealed class CaseLifecycleTests : IDisposable
{
    private readonly string _data = TestAssets.TempDir("lifecycle");
    private readonly CaseStore _store;
    private static readonly DateTimeOffset At = new(2026, 11, 23, 9, 0, 0, TimeSpan.FromHours(8));

    public CaseLifecycleTests() => _store = new CaseStore(_data);

    public void Dispose() => _store.Dispose();

    [Fact]
    public async Task A_new_case_is_reported_when_committed()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var c = await _store.OpenAsync(Case(1));

        Assert.Equal(CaseState.Reported, c.State);
        Assert.NotNull(c.ReportedAt);
        Assert.InRange(c.ReportedAt!.Value, before, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Null(c.AcknowledgedAt);
        Assert.Null(c.ClosedAt);
    }

    [Fact]
    public async Task The_frame_time_it_was_raised_is_kept_with_its_offset()
    {
        var raised = new DateTimeOffset(2026, 11, 23, 14, 10, 5, 250, TimeSpan.FromHours(8));
        var c = await _store.OpenAsync(Case(1) with { RaisedAt = raised });
        var stored = (await _store.GetAsync(c.Id))!;
        Assert.Equal(raised, stored.RaisedAt);
        Assert.Equal(raised.Offset, stored.RaisedAt!.Value.Offset);
        Assert.Null((await _store.GetAsync((await _store.OpenAsync(Case(2))).Id))!.RaisedAt);
    }

    [Fact]
    public async Task Acknowledged_then_closed_keeps_both_times_and_the_note()
    {
        var c = await _store.OpenAsync(Case(2));

        var acked = await _store.TransitionAsync(c.Id, CaseState.Acknowledged, At);
        var closed = await _store.TransitionAsync(c.Id, CaseState.Closed, At.AddMinutes(42), "vehicle moved on by officer 0231");

        Assert.Equal(CaseState.Acknowledged, acked.State);
        Assert.Equal(CaseState.Closed, closed.State);
        Assert.Equal(At, closed.AcknowledgedAt);
        Assert.Equal(At.AddMinutes(42), closed.ClosedAt);
        Assert.Equal("vehicle moved on by officer 0231", closed.StateNote);
        // And it is what a reader sees after a restart.
        _store.Dispose();
        using var reopened = new CaseStore(_data);
        Assert.Equal(closed with { Evidence = [] }, (await reopened.GetAsync(c.Id))! with { Evidence = [] });
    }

    [Fact]
    public async Task A_reported_case_may_be_rejected_directly_and_saying_it_twice_changes_nothing()
    {
        var c = await _store.OpenAsync(Case(3));

        var rejected = await _store.TransitionAsync(c.Id, CaseState.Rejected, At, "shadow, not a car");
        var again = await _store.TransitionAsync(c.Id, CaseState.Rejected, At.AddHours(1), "resent");

        Assert.Equal(rejected, again);
        Assert.Equal(At, again.ClosedAt);
    }

    [Theory]
    [InlineData(CaseState.Closed, CaseState.Acknowledged)]
    [InlineData(CaseState.Rejected, CaseState.Closed)]
    [InlineData(CaseState.Closed, CaseState.Reported)]
    [InlineData(CaseState.Acknowledged, CaseState.Reported)]
    public async Task Backward_steps_are_refused_with_the_case_and_both_states(CaseState reached, CaseState then)
    {
        var c = await _store.OpenAsync(Case(4));
        if (reached == CaseState.Closed || reached == CaseState.Rejected) await _store.TransitionAsync(c.Id, CaseState.Acknowledged, At);
        await _store.TransitionAsync(c.Id, reached, At.AddMinutes(1));

        var ex = await Assert.ThrowsAsync<InvalidCaseTransitionException>(() => _store.TransitionAsync(c.Id, then, At.AddMinutes(2)));

        Assert.Contains(c.Id, ex.Message);
        Assert.Contains(reached.ToString().ToLowerInvariant(), ex.Message);
        Assert.Equal(reached, (await _store.GetAsync(c.Id))!.State);
    }

    [Fact]
    public async Task An_unknown_case_is_named()
    {
        var ex = await Assert.ThrowsAsync<KeyNotFoundException>(() => _store.TransitionAsync("no-such-case", CaseState.Closed, At));
        Assert.Contains("no-such-case", ex.Message);
    }

    [Fact]
    public async Task Closed_and_rejected_cases_are_not_handed_back_as_open_after_a_restart()
    {
        var open = await _store.OpenAsync(Case(5));
        var acked = await _store.OpenAsync(Case(6));
        var closed = await _store.OpenAsync(Case(7));
        var rejected = await _store.OpenAsync(Case(8));
        await _store.TransitionAsync(acked.Id, CaseState.Acknowledged, At);
        await _store.TransitionAsync(closed.Id, CaseState.Closed, At);
        await _store.TransitionAsync(rejected.Id, CaseState.Rejected, At);

        var since = await _store.OpenSinceAsync(DateTimeOffset.MinValue);

        Assert.Equal([open.Id, acked.Id], since.Select(c => c.Id));
    }

    [Fact]
    public async Task A_store_made_before_the_lifecycle_is_migrated_and_its_cases_count_as_reported()
    {
        var dir = TestAssets.TempDir("lifecycle-v1");
        // The first schema, as the first build created it.
        using (var conn = new SqliteConnection($"Data Source={Path.Combine(dir, CaseStore.DatabaseFileName)}"))
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

        using var store = new CaseStore(dir);
        var old = (await store.GetAsync("old-1"))!;

        Assert.Equal(CaseState.Reported, old.State);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1700000000000), old.ReportedAt);
        Assert.Null(old.RaisedAt);   // not kept then
        Assert.Equal(CaseState.Closed, (await store.TransitionAsync("old-1", CaseState.Closed, At)).State);
        Assert.Equal(2, store.LastSequence);   // the closure is the feed's second event
        var added = await store.OpenAsync(Case(2) with { RaisedAt = At });   // the columns added since are there
        Assert.Equal(At, (await store.GetAsync(added.Id))!.RaisedAt);
    }
}
