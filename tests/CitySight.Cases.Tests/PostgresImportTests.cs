using CitySight.Cases.Postgres;
using CitySight.Cases.Sqlite;
using CitySight.Domain;
using CitySight.Tests;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Cases.Tests;

/// <summary>
/// A single node's SQLite store moved to the cluster's PostgreSQL store: the same cases, the same feed (sequences kept,
/// so a consumer's cursor still means the same), the same cursors and pictures; and never into a store already in use.
/// </summary>
public sealed class PostgresImportTests : IDisposable
{
    private readonly string _data = TestAssets.TempDir("pg-import");

    public void Dispose()
    {
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Cases_feed_cursors_and_pictures_come_over_with_their_sequences_and_the_next_case_follows_on()
    {
        Case open, closed, updated;
        List<CaseFeedEvent> before;
        await using (var sqlite = new SqliteCaseStore(_data))
        {
            open = await sqlite.OpenAsync(Case(1) with { EvidenceCrop = Jpeg(11), EvidenceBeforeAfter = Jpeg(12) });
            closed = await sqlite.OpenAsync(Case(2));
            updated = await sqlite.OpenAsync(Case(3) with { Evidence = Jpeg(31), EvidenceCrop = Jpeg(32) });
            await sqlite.UpdateSightingAsync(updated.Id, updated.LastSeen.AddMinutes(2), 0.99f, Jpeg(33), Jpeg(34));
            await sqlite.TransitionAsync(closed.Id, CaseState.Closed, DateTimeOffset.UtcNow, "moved on");
            await sqlite.AckAsync("xuhui-dispatch", 3);
            before = await EventsAsync(sqlite, 5);
            open = (await sqlite.GetAsync(open.Id))!;
            closed = (await sqlite.GetAsync(closed.Id))!;
            updated = (await sqlite.GetAsync(updated.Id))!;
        }

        var database = PostgresServer.NewDatabase("import");
        var result = await PostgresImport.FromSqliteAsync(_data, database);
        Assert.Equal(new PostgresImportResult(Cases: 3, FeedEvents: 5, Consumers: 1, Pictures: 8, LastSequence: 5), result);

        await using var pg = new PostgresCaseStore(database, "n1");
        Assert.Equal(5, pg.LastSequence);
        var after = await EventsAsync(pg, 5);
        Assert.Equal(before.Select(e => (e.Sequence, e.Kind, e.Case.Id)), after.Select(e => (e.Sequence, e.Kind, e.Case.Id)));
        foreach (var c in new[] { open, closed, updated }) Assert.Equal(c, (await pg.GetAsync(c.Id))! with { Evidence = c.Evidence });
        Assert.Equal(updated.Evidence, (await pg.GetAsync(updated.Id))!.Evidence);
        Assert.Equal(Jpeg(33), await pg.GetEvidenceAsync(updated.Id, EvidenceView.Best));
        Assert.Equal(Jpeg(34), await pg.GetEvidenceAsync(updated.Id, EvidenceView.BestCrop));
        Assert.Equal(Jpeg(31), await pg.GetEvidenceAsync(updated.Id, EvidenceView.First));
        Assert.Equal(Jpeg(32), await pg.GetEvidenceAsync(updated.Id, EvidenceView.FirstCrop));
        Assert.Equal(Jpeg(12), await pg.GetEvidenceAsync(open.Id, EvidenceView.BeforeAfter));
        Assert.Equal(3, await pg.CursorAsync("xuhui-dispatch"));
        Assert.Single(await pg.DecidedAsync(DateTimeOffset.UtcNow.AddHours(-1)));
        Assert.Equal(6, (await pg.OpenAsync(Case(4))).Sequence);
    }

    [Fact]
    public async Task A_store_already_in_use_is_refused_and_left_as_it_was()
    {
        await using (var sqlite = new SqliteCaseStore(_data)) await sqlite.OpenAsync(Case(1));
        var database = PostgresServer.NewDatabase("import");
        await using (var pg = new PostgresCaseStore(database, "n1")) await pg.OpenAsync(Case(2) with { Id = "already-here" });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => PostgresImport.FromSqliteAsync(_data, database));
        Assert.Contains("empty", ex.Message);
        await using var again = new PostgresCaseStore(database, "n1");
        Assert.Equal(1, again.LastSequence);
        Assert.Equal(["already-here"], (await again.NewestAsync(new CaseQuery())).Select(c => c.Id));
    }

    private static async Task<List<CaseFeedEvent>> EventsAsync(ICaseFeed feed, int count)
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var list = new List<CaseFeedEvent>();
        await foreach (var e in feed.EventsAsync(0, includeEvidence: false, cts.Token))
        {
            list.Add(e);
            if (list.Count == count) break;
        }
        return list;
    }
}
