using CitySight.Tests;
using Npgsql;

namespace CitySight.Cluster.Tests;

/// <summary>The camera list changing under a running cluster, and a node leaving cleanly.</summary>
public sealed class ConfigurationChangeTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(1.5);

    [Fact]
    public async Task Cameras_removed_from_the_configuration_stop_at_once_and_lose_their_rows()
    {
        await using var cluster = new TestCluster(30, Lease);
        var nodes = new[] { cluster.Start("node-a"), cluster.Start("node-b"), cluster.Start("node-c") };
        await Wait.UntilAsync(() => cluster.Balanced(_ => 10), TimeSpan.FromSeconds(10), "3 nodes balanced");

        var kept = cluster.Cameras.Take(21).ToArray();
        foreach (var node in nodes)
        {
            node.SetCameras(kept);
            Assert.True(node.Owned.IsSubsetOf(kept), $"{node.NodeId} still runs a removed camera");
        }

        await Wait.UntilAsync(() => nodes.All(n => n.Owned.Count == 7) && nodes.SelectMany(n => n.Owned).ToHashSet().SetEquals(kept),
            TimeSpan.FromSeconds(10), "21 cameras left, 7 on each node");
        await Wait.UntilAsync(async () => await CountAsync(cluster.ConnectionString) == 21, TimeSpan.FromSeconds(10), "the 9 removed cameras' rows gone");
        Assert.Equal(kept, (await nodes[0].AssignmentsAsync()).Select(a => a.Camera));
        Assert.Empty(cluster.Log.Overlaps);
    }

    [Fact]
    public async Task A_node_that_leaves_cleanly_hands_its_cameras_over_at_once()
    {
        await using var cluster = new TestCluster(30, Lease);
        var nodes = new[] { cluster.Start("node-a"), cluster.Start("node-b"), cluster.Start("node-c") };
        await Wait.UntilAsync(() => cluster.Balanced(_ => 10), TimeSpan.FromSeconds(10), "3 nodes balanced");

        await cluster.KillAsync(nodes[2]);
        await nodes[2].LeaveAsync(CancellationToken.None);

        // Nothing is left to run out: its leases are free and it is no longer counted, so the next tick takes them.
        Assert.Equal(0L, await CountAsync(cluster.ConnectionString, "SELECT count(*) FROM camera_leases WHERE node_id = 'node-c'"));
        Assert.Equal(0L, await CountAsync(cluster.ConnectionString, "SELECT count(*) FROM cluster_nodes WHERE node_id = 'node-c' AND heartbeat > now() - interval '1 hour'"));
        await Wait.UntilAsync(() => cluster.Balanced(_ => 15), TimeSpan.FromSeconds(10), "the 2 others owning 15 each");
        Assert.Empty(cluster.Log.Overlaps);
    }

    [Fact]
    public async Task A_second_process_with_the_same_node_id_runs_nothing_while_the_first_lives()
    {
        await using var cluster = new TestCluster(30, Lease);
        var first = cluster.Start("node-a");
        await Wait.UntilAsync(() => first.Owned.Count == 30, TimeSpan.FromSeconds(10), "node-a owning all 30");

        var twin = cluster.Start("node-a");
        var ticks = twin.Stats.Ticks;
        await Wait.UntilAsync(() => twin.Stats.Ticks >= ticks + 6, TimeSpan.FromSeconds(10), "6 ticks of the second node-a");

        Assert.Empty(twin.Owned);
        Assert.Equal(30, first.Owned.Count);
        Assert.Empty(cluster.Log.Overlaps);
    }

    private static async Task<long> CountAsync(string connectionString, string sql = "SELECT count(*) FROM camera_leases")
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
