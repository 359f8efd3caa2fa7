using System.Diagnostics;
using CitySight.Tests;
using Npgsql;
using Xunit.Abstractions;

namespace CitySight.Cluster.Tests;

/// <summary>
/// What coordination costs at the issue's scale, 1,000 cameras over 3 nodes: round trips per second per node with
/// the loops running, CPU per tick here and in the server's backends with the nodes ticked by hand (a tight loop, so
/// the test host's own idle work is lost in the noise), a fourth node joining, and a kill's takeover.
/// </summary>
public sealed class CoordinationOverhead(ITestOutputHelper output)
{
    [Fact]
    public async Task A_thousand_cameras_over_three_nodes_cost_two_round_trips_per_tick_a_join_moves_a_quarter_and_a_kill_moves_within_two_leases()
    {
        var lease = TimeSpan.FromSeconds(3);
        await using var cluster = new TestCluster(1000, lease);
        var cold = Stopwatch.StartNew();
        var nodes = new[] { cluster.Start("node-a"), cluster.Start("node-b"), cluster.Start("node-c") };
        await Wait.UntilAsync(() => cluster.Balanced(n => n.NodeId == "node-a" ? 334 : 333), TimeSpan.FromSeconds(30), "1000 cameras at 334, 333, 333");
        output.WriteLine($"cold start to balance: {cold.Elapsed.TotalSeconds:F2} s (lease {lease.TotalSeconds} s)");

        var before = nodes.Select(n => n.Stats).ToList();
        var window = Stopwatch.StartNew();
        await Wait.UntilAsync(() => Task.FromResult(nodes.Sum(n => n.Stats.Ticks) >= before.Sum(s => s.Ticks) + 30), TimeSpan.FromSeconds(30), "30 more ticks");
        var seconds = window.Elapsed.TotalSeconds;
        var after = nodes.Select(n => n.Stats).ToList();
        var ticks = after.Zip(before, (a, b) => a.Ticks - b.Ticks).Sum();
        var trips = after.Zip(before, (a, b) => a.RoundTrips - b.RoundTrips).Sum();
        output.WriteLine($"steady state over {seconds:F1} s: {trips / seconds / nodes.Length:F2} round trips/s per node at a {lease.TotalSeconds} s lease " +
            $"({(double)trips / ticks:F2} per tick; {trips / seconds / nodes.Length * lease.TotalSeconds / 15:F2}/s at the default 15 s)");
        Assert.True((double)trips / ticks <= 2.5, $"{(double)trips / ticks:F2} round trips per steady tick");

        // A fourth node: 250 cameras move to it, a few per node and tick (no storm), and nothing else moves.
        var holders = cluster.Holders();
        var since = cluster.Log.Sequence;
        var joining = Stopwatch.StartNew();
        cluster.Start("node-d");
        await Wait.UntilAsync(() => cluster.Balanced(_ => 250), TimeSpan.FromSeconds(60), "4 nodes at 250 each");
        var moved = cluster.Cameras.Count(c => holders[c] != cluster.Holders()[c]);
        var gains = cluster.Log.GainsSince(since);
        output.WriteLine($"join of a 4th node: balanced after {joining.Elapsed.TotalSeconds:F2} s, {moved} cameras moved, gains {string.Join(", ", gains.Select(g => $"{g.Key}={g.Value}"))}");
        Assert.True(moved == 250 && gains.Count == 1, $"{moved} cameras moved, gains {string.Join(", ", gains.Select(g => $"{g.Key}={g.Value}"))}; warnings:{Environment.NewLine}{cluster.Warnings}");

        var killed = Stopwatch.StartNew();
        await cluster.KillAsync(nodes[0]);
        await Wait.UntilAsync(() => cluster.Balanced(n => n.NodeId == "node-b" ? 334 : 333), TimeSpan.FromSeconds(30), "the 3 survivors at 334, 333, 333");
        output.WriteLine($"takeover of a killed node's 250 cameras: {killed.Elapsed.TotalSeconds:F2} s (lease {lease.TotalSeconds} s)");
        Assert.True(killed.Elapsed < 2 * lease, $"takeover took {killed.Elapsed.TotalSeconds:F2} s, over two leases");
        Assert.Empty(cluster.Log.Overlaps);
    }

    [Fact]
    public async Task A_steady_tick_at_a_thousand_cameras_costs_a_few_milliseconds_of_cpu()
    {
        var connectionString = PostgresServer.NewDatabase("overhead");
        var cameras = Enumerable.Range(1, 1000).Select(i => $"camera-{i:D4}").ToArray();
        var nodes = new[] { "node-a", "node-b", "node-c" }.Select(id => new CameraOwnership(connectionString, id, new ClusterOptions())).ToArray();
        try
        {
            foreach (var node in nodes) node.SetCameras(cameras);
            // Joined, claimed, then warm (the JIT's second tier).
            for (var round = 0; round < 30; round++)
                foreach (var node in nodes) await node.TickAsync(CancellationToken.None);
            Assert.Equal([334, 333, 333], nodes.Select(n => n.Owned.Count));

            var backends = await BackendsAsync(connectionString);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var server = ServerCpu(backends);
            var wall = Stopwatch.StartNew();
            const int Rounds = 100;
            for (var round = 0; round < Rounds; round++)
                foreach (var node in nodes) await node.TickAsync(CancellationToken.None);
            var ticks = Rounds * nodes.Length;
            var clientMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / ticks;
            var serverMs = (ServerCpu(backends) - server) / ticks;
            output.WriteLine($"a steady tick (1000 cameras, 3 nodes, ~333 leases renewed): {wall.Elapsed.TotalMilliseconds / ticks:F2} ms wall, " +
                $"client CPU {clientMs:F2} ms, server CPU {serverMs:F2} ms ({backends.Count} backends, 10 ms clock ticks over {ticks} ticks)");
            Assert.True(clientMs < 20, $"a tick costs {clientMs:F1} ms of CPU here");
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }

    private static async Task<List<int>> BackendsAsync(string connectionString)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'citysight-cluster %' AND datname = current_database()", conn);
        var pids = new List<int>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) pids.Add(reader.GetInt32(0));
        return pids;
    }

    // utime + stime of the server processes serving the nodes (pooled connections: the same processes all along).
    private static double ServerCpu(List<int> pids)
    {
        var ms = 0.0;
        foreach (var pid in pids)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ms += (long.Parse(fields[11]) + long.Parse(fields[12])) * 10.0; // clock ticks of 10 ms
            }
            catch (IOException)
            {
                // A backend that ended: its time is lost to the figure, which then reads low.
            }
        }
        return ms;
    }
}
