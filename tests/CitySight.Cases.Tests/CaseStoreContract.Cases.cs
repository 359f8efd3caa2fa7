using Prometheus;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Cases.Tests;

/// <summary>The contract: opening cases, reading them back, later sightings.</summary>
public abstract partial class CaseStoreContract
{
    [Fact]
    public async Task Sequence_increases_with_each_new_case()
    {
        var sequences = new List<long>();
        for (var i = 0; i < 5; i++) sequences.Add((await Store.OpenAsync(Case(i))).Sequence);

        Assert.Equal(Enumerable.Range(1, 5).Select(i => (long)i), sequences);
        Assert.Equal(5, Store.LastSequence);
    }

    [Fact]
    public async Task Concurrent_opens_get_distinct_sequences()
    {
        var opened = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => Store.OpenAsync(Case(i)))));

        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), opened.Select(c => c.Sequence).Order());
    }

    [Fact]
    public async Task Stored_case_round_trips_every_field_and_the_evidence()
    {
        var original = Case(7);
        var opened = await Store.OpenAsync(original);

        var read = await Store.GetAsync(original.Id);

        Assert.NotNull(read);
        AssertSameCase(original with { Sequence = opened.Sequence }, read);
        // DateTimeOffset equality ignores the offset; the store keeps it too.
        Assert.Equal(original.FirstSeen.Offset, read.FirstSeen.Offset);
        Assert.Equal(original.LastSeen.Offset, read.LastSeen.Offset);
        Assert.Equal(original.Evidence, await Store.GetEvidenceAsync(original.Id));
    }

    [Fact]
    public async Task Unknown_ids_give_null()
    {
        Assert.Null(await Store.GetAsync("nope"));
        Assert.Null(await Store.GetEvidenceAsync("nope"));
        Assert.Null(await Store.GetEvidenceAsync("../citysight.db"));
    }

    [Fact]
    public async Task Opening_an_existing_id_returns_the_stored_case_and_adds_nothing()
    {
        var first = await Store.OpenAsync(Case(1));
        var again = await Store.OpenAsync(first with { Confidence = 0.99f, Street = "other", Evidence = Jpeg(999) });

        AssertSameCase(first, again);
        Assert.Equal(first.Evidence, await Store.GetEvidenceAsync(first.Id));
        Assert.Equal(1, Store.LastSequence);
        // The next new case continues right after: the repeat took no sequence.
        var second = await Store.OpenAsync(Case(2));
        Assert.Equal(2, second.Sequence);
        Assert.Equal([first.Id, second.Id], await ReplayIds(Store, 0, 2));
    }

    [Fact]
    public async Task Ids_that_are_not_file_names_are_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenAsync(Case(1) with { Id = "../escape" }));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenAsync(Case(1) with { Id = "" }));
        Assert.Equal(0, Store.LastSequence);
    }

    [Fact]
    public async Task Reopening_the_folder_keeps_cases_and_continues_the_sequence()
    {
        var a = await Store.OpenAsync(Case(1));
        var b = await Store.OpenAsync(Case(2));
        var reopened = Reopen();
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
        var c = await Store.OpenAsync(Case(1) with { Confidence = 0.6f });
        var later = c.LastSeen.AddMinutes(3);
        var better = Jpeg(42);

        await Store.UpdateSightingAsync(c.Id, later, 0.8f, better);
        var afterBetter = (await Store.GetAsync(c.Id))!;
        Assert.Equal(later, afterBetter.LastSeen);
        Assert.Equal(0.8f, afterBetter.Confidence);
        Assert.Equal(better, afterBetter.Evidence);

        // An older sighting with lower confidence and no new evidence changes nothing it should not.
        await Store.UpdateSightingAsync(c.Id, c.LastSeen, 0.3f, null);
        var afterOlder = (await Store.GetAsync(c.Id))!;
        Assert.Equal(later, afterOlder.LastSeen);
        Assert.Equal(0.8f, afterOlder.Confidence);
        Assert.Equal(better, await Store.GetEvidenceAsync(c.Id));
        // The case keeps its own sequence; the first update was one feed event, the older sighting none.
        Assert.Equal(c.Sequence, afterOlder.Sequence);
        Assert.Equal(2, Store.LastSequence);
    }

    [Fact]
    public async Task Update_of_an_unknown_case_throws()
    {
        await Assert.ThrowsAsync<KeyNotFoundException>(() =>
            Store.UpdateSightingAsync("missing", DateTimeOffset.UtcNow, 0.9f, null));
    }

    [Fact]
    public async Task OpenSince_returns_cases_last_seen_after_the_instant_without_evidence()
    {
        var t = new DateTimeOffset(2025, 3, 14, 9, 0, 0, TimeSpan.Zero);
        var old = await Store.OpenAsync(Case(1, lastSeen: t.AddMinutes(-5)));
        var exactly = await Store.OpenAsync(Case(2, lastSeen: t));
        var recent = await Store.OpenAsync(Case(3, lastSeen: t.AddSeconds(1)));
        var updatedLater = await Store.OpenAsync(Case(4, lastSeen: t.AddHours(-1)));
        // Same instant written with another offset must compare as the same instant.
        var recentOtherOffset = await Store.OpenAsync(Case(5, lastSeen: t.AddMinutes(2).ToOffset(TimeSpan.FromHours(8))));
        await Store.UpdateSightingAsync(updatedLater.Id, t.AddMinutes(1), 0.1f, null);

        var since = await Store.OpenSinceAsync(t);

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
        var c = await Store.OpenAsync(Case(1, type));
        await Store.OpenAsync(Case(2, type));
        await Store.OpenAsync(c);

        // Read it the way Prometheus scrapes it, so the exported name and label are checked too.
        using var scrape = new MemoryStream();
        await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(scrape);
        var lines = System.Text.Encoding.UTF8.GetString(scrape.ToArray()).Split('\n');
        Assert.Contains($"citysight_cases_total{{case_type=\"{type}\"}} 2", lines);
    }
}
