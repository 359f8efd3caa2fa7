using CitySight.Domain;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Cases.Tests;

/// <summary>The contract: the feed replays in order, then follows new commits, and ends when cancelled or closed.</summary>
public abstract partial class CaseStoreContract
{
    [Fact]
    public async Task Feed_replays_in_order_then_follows_new_commits()
    {
        var stored = new List<Case>();
        for (var i = 0; i < 3; i++) stored.Add(await Store.OpenAsync(Case(i)));
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var feed = Store.FeedAsync(0, cts.Token).GetAsyncEnumerator();

        foreach (var expected in stored)
        {
            Assert.True(await feed.MoveNextAsync());
            AssertSameCase(expected, feed.Current);
        }

        // Nothing more is committed, so the follower must be waiting, not finished and not repeating.
        var next = feed.MoveNextAsync().AsTask();
        Assert.False(next.IsCompleted);
        var live = await Store.OpenAsync(Case(10));
        Assert.True(await next.WaitAsync(TestTimeout));
        AssertSameCase(live, feed.Current);
    }

    [Fact]
    public async Task Feed_after_a_sequence_starts_after_it_and_beyond_the_end_waits()
    {
        for (var i = 0; i < 4; i++) await Store.OpenAsync(Case(i));

        Assert.Equal([3L, 4L], await ReplaySequences(Store, 2, 2));

        using var cts = new CancellationTokenSource(TestTimeout);
        await using var beyond = Store.FeedAsync(6, cts.Token).GetAsyncEnumerator();
        var first = beyond.MoveNextAsync().AsTask();
        Assert.False(first.IsCompleted);
        await Store.OpenAsync(Case(5)); // 5: still not past the cursor
        await Store.OpenAsync(Case(6)); // 6
        var seventh = await Store.OpenAsync(Case(7));
        Assert.True(await first.WaitAsync(TestTimeout));
        Assert.Equal(seventh.Id, beyond.Current.Id);
        Assert.Equal(7, beyond.Current.Sequence);
    }

    [Fact]
    public async Task Feed_replays_more_than_one_batch_in_order()
    {
        const int n = 600; // more than the store's read batch
        for (var i = 0; i < n; i++) await Store.OpenAsync(Case(i) with { Evidence = [] });

        Assert.Equal(Enumerable.Range(1, n).Select(i => (long)i), await ReplaySequences(Store, 0, n));
    }

    [Fact]
    public async Task Feed_stops_when_cancelled()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var feed = Store.FeedAsync(0, cts.Token).GetAsyncEnumerator();
        var waiting = feed.MoveNextAsync().AsTask();
        Assert.False(waiting.IsCompleted);

        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task Feed_follower_ends_when_the_store_is_disposed()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var feed = Store.FeedAsync(0, cts.Token).GetAsyncEnumerator();
        var waiting = feed.MoveNextAsync().AsTask();

        Store.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting.WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task A_stalled_follower_blocks_neither_writers_nor_other_followers()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var stalled = Store.FeedAsync(0, cts.Token).GetAsyncEnumerator();
        var stalledFirst = stalled.MoveNextAsync().AsTask();

        // The stalled follower takes one case and is then never advanced while 300 more are written.
        await Store.OpenAsync(Case(0));
        Assert.True(await stalledFirst.WaitAsync(TestTimeout));
        var writes = Task.Run(async () =>
        {
            for (var i = 1; i <= 300; i++) await Store.OpenAsync(Case(i) with { Evidence = Jpeg(i, 64) });
        });
        await writes.WaitAsync(TestTimeout);

        // Another follower gets everything meanwhile, and the stalled one still resumes in order.
        Assert.Equal(Enumerable.Range(1, 301).Select(i => (long)i), await ReplaySequences(Store, 0, 301));
        var rest = new List<long>();
        while (rest.Count < 300 && await stalled.MoveNextAsync()) rest.Add(stalled.Current.Sequence);
        Assert.Equal(Enumerable.Range(2, 300).Select(i => (long)i), rest);
    }
}
