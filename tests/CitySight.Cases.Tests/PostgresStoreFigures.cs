using System.Collections.Concurrent;
using System.Diagnostics;
using CitySight.Cases.Postgres;
using CitySight.Cases.Sqlite;
using CitySight.Tests;
using Xunit.Abstractions;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Cases.Tests;

/// <summary>
/// Issue 16's figures, printed (run with <c>--filter Category=Figures --logger "console;verbosity=detailed"</c>): cases
/// committed per second through PostgreSQL and through SQLite on the same machine in the same run, and how long a
/// commit on one node takes to reach a follower on another.
/// </summary>
[Trait("Category", "Figures")]
public sealed class PostgresStoreFigures(ITestOutputHelper output)
{
    private const int Cases = 600;
    private const int Writers = 8;

    [Fact]
    public async Task Cases_per_second_postgres_vs_sqlite_and_cross_node_delivery_lag()
    {
        var data = TestAssets.TempDir("figures");
        double sqlite, postgres;
        await using (var store = new SqliteCaseStore(data)) sqlite = await CasesPerSecond(store, "sqlite");
        var database = PostgresServer.NewDatabase("figures");
        await using (var store = new PostgresCaseStore(database, "bench")) postgres = await CasesPerSecond(store, "pg");
        output.WriteLine($"cases/s, {Cases} cases by {Writers} concurrent writers, 2 KB picture each: SQLite {sqlite:F0}, PostgreSQL {postgres:F0}");

        // The commit-only rate of the shape below (three nodes, two writers each), no follower: the baseline for the outbox.
        var commitOnly = await ThreeNodeCommitsPerSecond(PostgresServer.NewDatabase("commit"));

        // Delivery lag: three nodes write, a follower on a fourth hears; from OpenAsync returning to the follower having it.
        var lagDb = PostgresServer.NewDatabase("lag");
        var nodes = Enumerable.Range(0, 3).Select(i => new PostgresCaseStore(lagDb, $"w{i}")).ToArray();
        await using var reader = new PostgresCaseStore(lagDb, "r");
        var committed = new ConcurrentDictionary<string, long>();
        var received = new Dictionary<string, long>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var follow = Task.Run(async () =>
        {
            await foreach (var c in reader.FeedAsync(0, includeEvidence: false, cts.Token))
            {
                received[c.Id] = Stopwatch.GetTimestamp();
                if (c.Sequence == Cases) return;
            }
        });
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(nodes.Select((node, w) => Parallel.ForEachAsync(Enumerable.Range(0, Cases / nodes.Length),
            new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (i, ct) =>
            {
                var c = await node.OpenAsync(Case(i) with { Id = $"lag-{w}-{i}" }, ct);
                committed[c.Id] = Stopwatch.GetTimestamp();
            })));
        await follow.WaitAsync(TimeSpan.FromSeconds(120));
        foreach (var n in nodes) await n.DisposeAsync();
        // Heard before OpenAsync returned on its node counts as no lag.
        var lags = received.Select(r => Math.Max(0, Stopwatch.GetElapsedTime(committed[r.Key], r.Value).TotalMilliseconds)).Order().ToList();
        output.WriteLine($"delivery lag across nodes, {Cases} cases from 3 nodes (2 writers each): p50 {lags[lags.Count / 2]:F2} ms, " +
            $"p99 {lags[(int)(lags.Count * 0.99)]:F2} ms, max {lags[^1]:F2} ms");
        Assert.Equal(Cases, lags.Count);
        var delivered = Cases / Stopwatch.GetElapsedTime(start, received.Values.Max()).TotalSeconds;
        output.WriteLine($"through the outbox: {delivered:F0} cases/s received by the follower on a fourth node, against {commitOnly:F0} cases/s " +
            $"committed by the same three nodes with no follower in this run (ratio {delivered / commitOnly:F2})");
        try { Directory.Delete(data, recursive: true); } catch (IOException) { }
    }

    private static async Task<double> ThreeNodeCommitsPerSecond(string database)
    {
        var nodes = Enumerable.Range(0, 3).Select(i => new PostgresCaseStore(database, $"c{i}")).ToArray();
        try
        {
            for (var i = 0; i < 20; i++) await nodes[i % 3].OpenAsync(Case(i) with { Id = $"warm-{i}" }); // connections, JIT
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(nodes.Select((node, w) => Parallel.ForEachAsync(Enumerable.Range(0, Cases / nodes.Length),
                new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (i, ct) => await node.OpenAsync(Case(i) with { Id = $"c-{w}-{i}" }, ct))));
            return Cases / watch.Elapsed.TotalSeconds;
        }
        finally
        {
            foreach (var n in nodes) await n.DisposeAsync();
        }
    }

    private async Task<double> CasesPerSecond(ICaseStore store, string prefix)
    {
        for (var i = 0; i < 20; i++) await store.OpenAsync(Case(i) with { Id = $"{prefix}-warm-{i}" }); // connections, JIT
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, Cases), new ParallelOptions { MaxDegreeOfParallelism = Writers },
            async (i, ct) => await store.OpenAsync(Case(i) with { Id = $"{prefix}-{i}" }, ct));
        var rate = Cases / watch.Elapsed.TotalSeconds;
        Assert.Equal(Cases + 20, store.LastSequence);
        return rate;
    }
}
