using CitySight.Cases.Sqlite;
using CitySight.Tests;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Cases.Tests;

/// <summary>
/// Issue 14: acks coalesced into few durable commits, and followers at the same position sharing one store read,
/// without losing, repeating or reordering an event.
/// </summary>
public sealed class FeedLimitsTests : IAsyncLifetime
{
    private readonly string _data = TestAssets.TempDir("feedlimits");
    private SqliteCaseStore _store = null!;

    public Task InitializeAsync()
    {
        _store = new SqliteCaseStore(_data);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // a follower still unwinding may hold a file for a moment; the temp folder is cleaned up later anyway
        }
    }

    [Fact]
    public async Task A_flood_of_a_thousand_acks_costs_a_few_commits_and_each_is_durable_when_it_returns()
    {
        for (var i = 1; i <= 100; i++) await _store.OpenAsync(Case(i));
        var before = _store.AckCommits;

        // 10 consumers × 100 acks, all in flight at once, in no particular order.
        var acks = Enumerable.Range(0, 1000)
            .Select(n => (Consumer: $"dispatch-{n % 10}", Sequence: (long)(n * 37 % 100 + 1)))
            .Select(a => (a.Consumer, a.Sequence, Reply: _store.AckAsync(a.Consumer, a.Sequence)))
            .ToList();
        await Task.WhenAll(acks.Select(a => a.Reply)).WaitAsync(TestTimeout);

        var commits = _store.AckCommits - before;
        Assert.InRange(commits, 1, 20);
        // Each reply is the consumer's cursor once its ack was written: at least what it acked.
        Assert.All(acks, a => Assert.True(a.Reply.Result >= a.Sequence, $"{a.Consumer} acked {a.Sequence}, got {a.Reply.Result}"));

        // What the acks returned survives a restart: no cursor is below what its consumer was told.
        var promised = acks.GroupBy(a => a.Consumer).ToDictionary(g => g.Key, g => g.Max(a => a.Reply.Result));
        await _store.DisposeAsync();
        _store = new SqliteCaseStore(_data);
        foreach (var (consumer, cursor) in promised)
            Assert.Equal(cursor, await _store.CursorAsync(consumer));
        foreach (var g in acks.GroupBy(a => a.Consumer))
            Assert.Equal(g.Max(a => a.Sequence), promised[g.Key]); // the highest ack wins, whatever order they were written in
    }

    [Fact]
    public async Task Acks_in_one_flush_stay_apart_a_bad_one_fails_alone_and_no_cursor_moves_back()
    {
        for (var i = 1; i <= 5; i++) await _store.OpenAsync(Case(i));
        Assert.Equal(4, await _store.AckAsync("xuhui", 4));

        var late = _store.AckAsync("xuhui", 2);      // older than the cursor: kept at 4
        var beyond = _store.AckAsync("other", 9);    // not in the feed
        var fine = _store.AckAsync("other", 3);
        Assert.Equal(4, await late);
        Assert.Contains("sequence 9 is not in the feed (0..5)", (await Assert.ThrowsAsync<ArgumentException>(() => beyond)).Message);
        Assert.Equal(3, await fine);
        Assert.Equal(4, await _store.CursorAsync("xuhui"));
        Assert.Equal(3, await _store.CursorAsync("other"));
    }

    [Fact]
    public async Task Fifty_followers_woken_by_one_commit_read_the_store_once()
    {
        await _store.OpenAsync(Case(1));
        using var cts = new CancellationTokenSource(TestTimeout);
        var followers = Enumerable.Range(0, 50)
            .Select(_ => _store.EventsAsync(_store.LastSequence, includeEvidence: false, cts.Token).GetAsyncEnumerator(cts.Token)).ToList();
        try
        {
            // An async iterator runs up to its first wait on MoveNextAsync: each follower is now waiting at sequence 1.
            var next = followers.Select(f => f.MoveNextAsync().AsTask()).ToList();
            Assert.All(next, n => Assert.False(n.IsCompleted));
            var reads = _store.FeedStoreReads;

            await _store.OpenAsync(Case(2));
            await Task.WhenAll(next).WaitAsync(cts.Token);

            Assert.All(followers, f => Assert.Equal(2, f.Current.Sequence));
            Assert.Equal(1, _store.FeedStoreReads - reads);
        }
        finally
        {
            await cts.CancelAsync();
            foreach (var f in followers) await DisposeQuietly(f);
        }
    }

    [Fact]
    public async Task Many_followers_get_every_event_once_in_order_while_two_writers_commit()
    {
        const int followers = 40, cases = 300;
        var start = _store.LastSequence;
        using var cts = new CancellationTokenSource(TestTimeout * 2);
        // Half follow with pictures (smaller batches), half without: two cache keys at the same positions. Each is
        // started here, so it waits at the start before the first commit.
        var streams = Enumerable.Range(0, followers)
            .Select(f => _store.EventsAsync(start, includeEvidence: f % 2 == 0, cts.Token).GetAsyncEnumerator(cts.Token)).ToList();
        var firsts = streams.Select(f => f.MoveNextAsync().AsTask()).ToList();
        var received = streams.Select((f, i) => Task.Run(() => CollectAsync(f, firsts[i], cases))).ToList();

        // Two writers at once, so followers are woken while commits keep coming.
        await Task.WhenAll(
            Task.Run(async () => { for (var i = 0; i < cases / 2; i++) await _store.OpenAsync(Case(1000 + i)); }),
            Task.Run(async () => { for (var i = 0; i < cases / 2; i++) await _store.OpenAsync(Case(2000 + i)); }));

        var expected = Enumerable.Range(1, cases).Select(i => start + i).ToList();
        foreach (var seen in await Task.WhenAll(received).WaitAsync(cts.Token))
            Assert.Equal(expected, seen); // none lost, none twice, in sequence order
        Assert.True(_store.FeedStoreReads < followers * (long)cases / 4,
            $"{_store.FeedStoreReads} store reads for {followers} followers and {cases} commits: the followers did not share them");
    }

    private static async Task<List<long>> CollectAsync(IAsyncEnumerator<CaseFeedEvent> follower, Task<bool> first, int count)
    {
        var seen = new List<long>(count);
        await using (follower)
        {
            for (var more = await first; more; more = seen.Count < count && await follower.MoveNextAsync())
                seen.Add(follower.Current.Sequence);
        }
        return seen;
    }

    private static async Task DisposeQuietly(IAsyncEnumerator<CaseFeedEvent> follower)
    {
        try
        {
            await follower.DisposeAsync();
        }
        catch (OperationCanceledException)
        {
            // cancelled while waiting, as intended
        }
    }
}
