using Npgsql;
using CitySight.Cases.Postgres;
using CitySight.Domain;
using CitySight.Tests;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Cases.Tests;

/// <summary>
/// Issue 16: several CitySight nodes on ONE PostgreSQL store and ONE feed. Each node is its own
/// <see cref="PostgresCaseStore"/> on the same database; what one commits, a follower on another hears, once, in order.
/// </summary>
public sealed class PostgresClusterFeedTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly string _database = PostgresServer.NewDatabase("cluster");
    private readonly List<PostgresCaseStore> _nodes = [];

    private PostgresCaseStore Node(string name)
    {
        var node = new PostgresCaseStore(_database, name);
        _nodes.Add(node);
        return node;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // Every node is disposed: a node left open would keep polling its head in the background of later tests.
    public async Task DisposeAsync()
    {
        foreach (var n in _nodes) await n.DisposeAsync();
    }

    [Fact]
    public async Task Concurrent_opens_on_three_nodes_reach_a_follower_on_a_fourth_once_each_in_sequence_order_without_gaps()
    {
        const int perNode = 200;
        var writers = new[] { Node("a"), Node("b"), Node("c") };
        var reader = Node("d");
        using var cts = new CancellationTokenSource(Timeout);
        var events = new List<CaseFeedEvent>();
        var following = Task.Run(async () =>
        {
            await foreach (var e in reader.EventsAsync(0, includeEvidence: false, cts.Token))
            {
                events.Add(e);
                if (e.Sequence >= writers.Length * perNode) return;
            }
        });

        var opened = await Task.WhenAll(writers.Select((node, w) => Task.Run(async () =>
        {
            var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
            // Eight writers per node at once: appends from the three nodes interleave and contend for the feed's head.
            await Parallel.ForEachAsync(Enumerable.Range(0, perNode), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
                ids.Add((await node.OpenAsync(Case(i) with { Id = $"{node.NodeId}-{i}" }, ct)).Id));
            return ids.ToList();
        })));
        await following.WaitAsync(Timeout);

        Assert.Equal(Enumerable.Range(1, writers.Length * perNode).Select(i => (long)i), events.Select(e => e.Sequence));
        Assert.All(events, e => Assert.Equal(CaseFeedKind.Opened, e.Kind));
        Assert.Equal(opened.SelectMany(ids => ids).Order(StringComparer.Ordinal), events.Select(e => e.Case.Id).Order(StringComparer.Ordinal));
        Assert.Equal(writers.Length * perNode, reader.LastSequence);
    }

    [Fact]
    public async Task A_consumer_that_acked_on_one_node_resumes_after_its_cursor_on_another()
    {
        var a = Node("a");
        for (var i = 0; i < 10; i++) await a.OpenAsync(Case(i));
        var taken = new List<Case>();
        using (var cts = new CancellationTokenSource(Timeout))
            await foreach (var c in a.FeedAsync(0, includeEvidence: false, cts.Token))
            {
                taken.Add(c);
                if (taken.Count == 4) break;
            }
        Assert.Equal(4, await a.AckAsync("xuhui-dispatch", taken[^1].Sequence));
        await a.DisposeAsync();

        var b = Node("b");
        var cursor = await b.CursorAsync("xuhui-dispatch");
        Assert.Equal(4, cursor);
        Assert.Equal([5L, 6L, 7L], (await ReplayAsync(b, cursor, 3)).Select(c => c.Sequence));
        // Its acks on the new node go on from there and never back.
        Assert.Equal(7, await b.AckAsync("xuhui-dispatch", 7));
        Assert.Equal(7, await b.AckAsync("xuhui-dispatch", 2));
        Assert.Equal(("xuhui-dispatch", 7L), b.Consumers().Select(c => (c.Consumer, c.Acked)).Single());
    }

    [Fact]
    public async Task An_ack_on_a_node_that_has_not_yet_heard_of_a_commit_is_checked_against_the_shared_head()
    {
        var a = Node("a");
        var b = Node("b");
        await Wait.UntilAsync(() => b.ListenSessions >= 1, "node b listening");
        // b does not hear of the commit at once (its LISTEN connection is down, the poll runs once a second); the
        // range check asks the database, not b's memory.
        Assert.Equal(1, await KillListenerAsync("b"));
        var c = await a.OpenAsync(Case(1));
        Assert.Equal(c.Sequence, await b.AckAsync("mqtt", c.Sequence));
        var beyond = await Assert.ThrowsAsync<ArgumentException>(() => b.AckAsync("mqtt", c.Sequence + 1));
        Assert.Contains($"sequence {c.Sequence + 1} is not in the feed (0..{c.Sequence})", beyond.Message);
    }

    [Fact]
    public async Task Pictures_written_through_one_node_are_read_through_another()
    {
        var a = Node("a");
        var b = Node("b");
        var c = await a.OpenAsync(Case(1) with { Evidence = Jpeg(1), EvidenceCrop = Jpeg(2), EvidenceBeforeAfter = Jpeg(3) });
        await a.UpdateSightingAsync(c.Id, c.LastSeen.AddMinutes(2), 0.99f, Jpeg(4), Jpeg(5));

        Assert.Equal(Jpeg(4), await b.GetEvidenceAsync(c.Id, EvidenceView.Best));
        Assert.Equal(Jpeg(5), await b.GetEvidenceAsync(c.Id, EvidenceView.BestCrop));
        Assert.Equal(Jpeg(1), await b.GetEvidenceAsync(c.Id, EvidenceView.First));
        Assert.Equal(Jpeg(2), await b.GetEvidenceAsync(c.Id, EvidenceView.FirstCrop));
        Assert.Equal(Jpeg(3), await b.GetEvidenceAsync(c.Id, EvidenceView.BeforeAfter));
        Assert.Equal(Jpeg(4), (await b.GetAsync(c.Id))!.Evidence);
        var events = await EventsAsync(b, 0, 2);
        Assert.Equal(Jpeg(4), events[^1].Case.Evidence);
        Assert.Equal(CaseFeedKind.Updated, events[^1].Kind);
    }

    [Fact]
    public async Task A_follower_whose_listen_connection_is_killed_still_gets_later_commits()
    {
        var a = Node("a");
        var b = Node("b");
        await Wait.UntilAsync(() => b.ListenSessions >= 1, "node b listening");
        using var cts = new CancellationTokenSource(Timeout);
        await using var feed = b.FeedAsync(0, includeEvidence: false, cts.Token).GetAsyncEnumerator();
        var first = feed.MoveNextAsync().AsTask();
        var before = await a.OpenAsync(Case(1));
        Assert.True(await first.WaitAsync(Timeout));
        Assert.Equal(before.Id, feed.Current.Id);

        Assert.Equal(1, await KillListenerAsync("b"));
        var afterKill = new List<string>();
        for (var i = 2; i <= 4; i++) afterKill.Add((await a.OpenAsync(Case(i))).Id);
        var got = new List<string>();
        while (got.Count < 3 && await feed.MoveNextAsync().AsTask().WaitAsync(Timeout)) got.Add(feed.Current.Id);
        Assert.Equal(afterKill, got);
        // And it listens again: later commits need not wait for the poll.
        await Wait.UntilAsync(() => b.ListenSessions >= 2, "node b listening again");
    }

    [Fact]
    public async Task Nodes_opening_a_new_database_at_once_make_its_schema_once()
    {
        var database = PostgresServer.NewDatabase("schema");
        var stores = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() => new PostgresCaseStore(database, $"n{i}"))));
        try
        {
            var c = await stores[0].OpenAsync(Case(1));
            Assert.Equal(c.Id, (await stores[5].GetAsync(c.Id))!.Id);
        }
        finally
        {
            foreach (var s in stores) await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_state_change_is_raised_on_the_node_that_committed_it_and_on_the_feed_of_every_node()
    {
        var a = Node("a");
        var b = Node("b");
        var raisedOnA = new List<CaseFeedEvent>();
        var raisedOnB = new List<CaseFeedEvent>();
        a.StateChanged += raisedOnA.Add;
        b.StateChanged += raisedOnB.Add;
        var c = await b.OpenAsync(Case(1));
        var closed = await a.TransitionAsync(c.Id, CaseState.Closed, DateTimeOffset.UtcNow, "moved on");

        Assert.Equal(closed, Assert.Single(raisedOnA).Case);
        Assert.Empty(raisedOnB);
        var events = await EventsAsync(b, 0, 2);
        Assert.Equal((CaseFeedKind.StateChanged, CaseState.Closed), (events[1].Kind, events[1].Case.State));
    }

    private async Task<int> KillListenerAsync(string node)
    {
        await using var conn = new NpgsqlConnection(_database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(
            "SELECT COUNT(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = @name AND datname = current_database();", conn);
        cmd.Parameters.AddWithValue("name", $"citysight-listen-{node}");
        return Convert.ToInt32(await cmd.ExecuteScalarAsync());
    }

    private static async Task<List<Case>> ReplayAsync(ICaseFeed feed, long after, int count)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var list = new List<Case>();
        await foreach (var c in feed.FeedAsync(after, includeEvidence: false, cts.Token))
        {
            list.Add(c);
            if (list.Count == count) break;
        }
        return list;
    }

    private static async Task<List<CaseFeedEvent>> EventsAsync(ICaseFeed feed, long after, int count)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var list = new List<CaseFeedEvent>();
        await foreach (var e in feed.EventsAsync(after, includeEvidence: true, cts.Token))
        {
            list.Add(e);
            if (list.Count == count) break;
        }
        return list;
    }
}
