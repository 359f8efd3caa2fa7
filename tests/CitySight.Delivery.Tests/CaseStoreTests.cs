using CitySight.Cases;
using CitySight.Domain;
using CitySight.Tests;
using Prometheus;
using static CitySight.Delivery.Tests.Samples;

namespace CitySight.Delivery.Tests;

public sealed class CaseStoreTests : IDisposable
{
    private readonly string _data = TestAssets.TempDir("casestore");
    private readonly CaseStore _store;

    public CaseStoreTests() => _store = new CaseStore(_data);

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task Creates_database_in_wal_mode_and_evidence_folder()
    {
        await _store.OpenAsync(Case(1));
        Assert.True(File.Exists(Path.Combine(_data, "citysight.db")));
        Assert.True(File.Exists(Path.Combine(_data, "citysight.db-wal")), "WAL mode keeps a -wal file beside the database");
        Assert.True(Directory.Exists(Path.Combine(_data, "evidence")));
    }

    [Fact]
    public async Task Sequence_increases_with_each_new_case()
    {
        var sequences = new List<long>();
        for (var i = 0; i < 5; i++) sequences.Add((await _store.OpenAsync(Case(i))).Sequence);

        Assert.Equal(Enumerable.Range(1, 5).Select(i => (long)i), sequences);
        Assert.Equal(5, _store.LastSequence);
    }

    [Fact]
    public async Task Concurrent_opens_get_distinct_sequences()
    {
        var opened = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => _store.OpenAsync(Case(i)))));

        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), opened.Select(c => c.Sequence).Order());
    }

    [Fact]
    public async Task Stored_case_round_trips_every_field_and_the_evidence()
    {
        var original = Case(7);
        var opened = await _store.OpenAsync(original);

        var read = await _store.GetAsync(original.Id);

        Assert.NotNull(read);
        AssertSameCase(original with { Sequence = opened.Sequence }, read);
        // DateTimeOffset equality ignores the offset; the store keeps it too.
        Assert.Equal(original.FirstSeen.Offset, read.FirstSeen.Offset);
        Assert.Equal(original.LastSeen.Offset, read.LastSeen.Offset);
        Assert.Equal(original.Evidence, await _store.GetEvidenceAsync(original.Id));
        Assert.Equal(original.Evidence, File.ReadAllBytes(Path.Combine(_data, "evidence", original.Id + ".jpg")));
    }

    [Fact]
    public async Task Unknown_ids_give_null()
    {
        Assert.Null(await _store.GetAsync("nope"));
        Assert.Null(await _store.GetEvidenceAsync("nope"));
        Assert.Null(await _store.GetEvidenceAsync("../citysight.db"));
    }

    [Fact]
    public async Task Opening_an_existing_id_returns_the_stored_case_and_adds_nothing()
    {
        var first = await _store.OpenAsync(Case(1));
        var again = await _store.OpenAsync(first with { Confidence = 0.99f, Street = "other", Evidence = Jpeg(999) });

        AssertSameCase(first, again);
        Assert.Equal(first.Evidence, await _store.GetEvidenceAsync(first.Id));
        Assert.Equal(1, _store.LastSequence);
        // The next new case continues right after: the repeat took no sequence.
        var second = await _store.OpenAsync(Case(2));
        Assert.Equal(2, second.Sequence);
        Assert.Equal([first.Id, second.Id], await ReplayIds(_store, 0, 2));
    }

    [Fact]
    public async Task Ids_that_are_not_file_names_are_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _store.OpenAsync(Case(1) with { Id = "../escape" }));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.OpenAsync(Case(1) with { Id = "" }));
        Assert.Equal(0, _store.LastSequence);
    }

    [Fact]
    public async Task Reopening_the_folder_keeps_cases_and_continues_the_sequence()
    {
        var a = await _store.OpenAsync(Case(1));
        var b = await _store.OpenAsync(Case(2));
        _store.Dispose();

        using var reopened = new CaseStore(_data);
        Assert.Equal(2, reopened.LastSequence);
        AssertSameCase(a, (await reopened.GetAsync(a.Id))!);
        AssertSameCase(b, (await reopened.GetAsync(b.Id))!);
        var c = await reopened.OpenAsync(Case(3));
        Assert.Equal(3, c.Sequence);
        // Idempotency survives the restart too.
        Assert.Equal(a.Sequence, (await reopened.OpenAsync(a with { Evidence = Jpeg(5) })).Sequence);
        Assert.Equal([a.Id, b.Id, c.Id], await ReplayIds(reopened, 0, 3));
    }

    [Fact]
    public async Task Update_moves_last_seen_forward_raises_confidence_and_replaces_evidence()
    {
        var c = await _store.OpenAsync(Case(1) with { Confidence = 0.6f });
        var later = c.LastSeen.AddMinutes(3);
        var better = Jpeg(42);

        await _store.UpdateSightingAsync(c.Id, later, 0.8f, better);
        var afterBetter = (await _store.GetAsync(c.Id))!;
        Assert.Equal(later, afterBetter.LastSeen);
        Assert.Equal(0.8f, afterBetter.Confidence);
        Assert.Equal(better, afterBetter.Evidence);

        // An older sighting with lower confidence and no new evidence changes nothing it should not.
        await _store.UpdateSightingAsync(c.Id, c.LastSeen, 0.3f, null);
        var afterOlder = (await _store.GetAsync(c.Id))!;
        Assert.Equal(later, afterOlder.LastSeen);
        Assert.Equal(0.8f, afterOlder.Confidence);
        Assert.Equal(better, await _store.GetEvidenceAsync(c.Id));
        // The case keeps its own sequence; the first update was one feed event, the older sighting none.
        Assert.Equal(c.Sequence, afterOlder.Sequence);
        Assert.Equal(2, _store.LastSequence);
    }

    [Fact]
    public async Task Update_of_an_unknown_case_throws()
    {
        await Assert.ThrowsAsync<KeyNotFoundException>(() =>
            _store.UpdateSightingAsync("missing", DateTimeOffset.UtcNow, 0.9f, null));
    }

    [Fact]
    public async Task OpenSince_returns_cases_last_seen_after_the_instant_without_evidence()
    {
        var t = new DateTimeOffset(2025, 3, 14, 9, 0, 0, TimeSpan.Zero);
        var old = await _store.OpenAsync(Case(1, lastSeen: t.AddMinutes(-5)));
        var exactly = await _store.OpenAsync(Case(2, lastSeen: t));
        var recent = await _store.OpenAsync(Case(3, lastSeen: t.AddSeconds(1)));
        var updatedLater = await _store.OpenAsync(Case(4, lastSeen: t.AddHours(-1)));
        // Same instant written with another offset must compare as the same instant.
        var recentOtherOffset = await _store.OpenAsync(Case(5, lastSeen: t.AddMinutes(2).ToOffset(TimeSpan.FromHours(8))));
        await _store.UpdateSightingAsync(updatedLater.Id, t.AddMinutes(1), 0.1f, null);

        var since = await _store.OpenSinceAsync(t);

        Assert.Equal([recent.Id, updatedLater.Id, recentOtherOffset.Id], since.Select(c => c.Id));
        Assert.All(since, c => Assert.Empty(c.Evidence));
        AssertSameCase(recent, since[0], withEvidence: false);
        Assert.DoesNotContain(since, c => c.Id == old.Id || c.Id == exactly.Id);
    }

    [Fact]
    public async Task Counts_new_cases_by_type_but_not_repeats()
    {
        // A type no other test uses: the metrics registry is process-wide and tests run in parallel.
        var type = "test_type_" + Guid.NewGuid().ToString("N");
        var c = await _store.OpenAsync(Case(1, type));
        await _store.OpenAsync(Case(2, type));
        await _store.OpenAsync(c);

        // Read it the way Prometheus scrapes it, so the exported name and label are checked too.
        using var scrape = new MemoryStream();
        await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(scrape);
        var lines = System.Text.Encoding.UTF8.GetString(scrape.ToArray()).Split('\n');
        Assert.Contains($"citysight_cases_total{{case_type=\"{type}\"}} 2", lines);
    }

    [Fact]
    public async Task Feed_replays_in_order_then_follows_new_commits()
    {
        var stored = new List<Case>();
        for (var i = 0; i < 3; i++) stored.Add(await _store.OpenAsync(Case(i)));
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var feed = _store.FeedAsync(0, cts.Token).GetAsyncEnumerator();

        foreach (var expected in stored)
        {
            Assert.True(await feed.MoveNextAsync());
            AssertSameCase(expected, feed.Current);
        }

        // Nothing more is committed, so the follower must be waiting, not finished and not repeating.
        var next = feed.MoveNextAsync().AsTask();
        Assert.False(next.IsCompleted);
        var live = await _store.OpenAsync(Case(10));
        Assert.True(await next.WaitAsync(TestTimeout));
        AssertSameCase(live, feed.Current);
    }

    [Fact]
    public async Task Feed_after_a_sequence_starts_after_it_and_beyond_the_end_waits()
    {
        for (var i = 0; i < 4; i++) await _store.OpenAsync(Case(i));

        Assert.Equal([3L, 4L], await ReplaySequences(_store, 2, 2));

        using var cts = new CancellationTokenSource(TestTimeout);
        await using var beyond = _store.FeedAsync(6, cts.Token).GetAsyncEnumerator();
        var first = beyond.MoveNextAsync().AsTask();
        Assert.False(first.IsCompleted);
        await _store.OpenAsync(Case(5)); // 5: still not past the cursor
        await _store.OpenAsync(Case(6)); // 6
        var seventh = await _store.OpenAsync(Case(7));
        Assert.True(await first.WaitAsync(TestTimeout));
        Assert.Equal(seventh.Id, beyond.Current.Id);
        Assert.Equal(7, beyond.Current.Sequence);
    }

    [Fact]
    public async Task Feed_replays_more_than_one_batch_in_order()
    {
        const int n = 600; // more than the store's read batch
        for (var i = 0; i < n; i++) await _store.OpenAsync(Case(i) with { Evidence = [] });

        Assert.Equal(Enumerable.Range(1, n).Select(i => (long)i), await ReplaySequences(_store, 0, n));
    }

    [Fact]
    public async Task Feed_stops_when_cancelled()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var feed = _store.FeedAsync(0, cts.Token).GetAsyncEnumerator();
        var waiting = feed.MoveNextAsync().AsTask();
        Assert.False(waiting.IsCompleted);

        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task Feed_follower_ends_when_the_store_is_disposed()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var feed = _store.FeedAsync(0, cts.Token).GetAsyncEnumerator();
        var waiting = feed.MoveNextAsync().AsTask();

        _store.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting.WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task A_stalled_follower_blocks_neither_writers_nor_other_followers()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var stalled = _store.FeedAsync(0, cts.Token).GetAsyncEnumerator();
        var stalledFirst = stalled.MoveNextAsync().AsTask();

        // The stalled follower takes one case and is then never advanced while 300 more are written.
        await _store.OpenAsync(Case(0));
        Assert.True(await stalledFirst.WaitAsync(TestTimeout));
        var writes = Task.Run(async () =>
        {
            for (var i = 1; i <= 300; i++) await _store.OpenAsync(Case(i) with { Evidence = Jpeg(i, 64) });
        });
        await writes.WaitAsync(TestTimeout);

        // Another follower gets everything meanwhile, and the stalled one still resumes in order.
        Assert.Equal(Enumerable.Range(1, 301).Select(i => (long)i), await ReplaySequences(_store, 0, 301));
        var rest = new List<long>();
        while (rest.Count < 300 && await stalled.MoveNextAsync()) rest.Add(stalled.Current.Sequence);
        Assert.Equal(Enumerable.Range(2, 300).Select(i => (long)i), rest);
    }

    private static async Task<List<long>> ReplaySequences(CaseStore store, long after, int count)
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var list = new List<long>();
        await foreach (var c in store.FeedAsync(after, includeEvidence: false, cts.Token))
        {
            list.Add(c.Sequence);
            if (list.Count == count) break;
        }
        return list;
    }

    private static async Task<List<string>> ReplayIds(CaseStore store, long after, int count)
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var list = new List<string>();
        await foreach (var c in store.FeedAsync(after, includeEvidence: false, cts.Token))
        {
            list.Add(c.Id);
            if (list.Count == count) break;
        }
        return list;
    }
}
