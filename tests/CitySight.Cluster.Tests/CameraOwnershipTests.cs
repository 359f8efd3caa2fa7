using System.Diagnostics;
using CitySight.Tests;
using Npgsql;
using Xunit.Abstractions;

namespace CitySight.Cluster.Tests;

/// <summary>
/// Several nodes on one real PostgreSQL with a short lease: balance, takeover after a kill, a join without a storm,
/// a partitioned node fencing itself, capacities. Every change of Owned is replayed in order (OwnershipLog): no camera
/// may be gained while another node still holds it.
/// </summary>
public sealed class CameraOwnershipTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(1.5);
    private const string Secret = "pw-never-logged-7c1f";

    [Fact]
    public async Task Three_nodes_share_thirty_cameras_ten_each_and_never_hold_one_twice()
    {
        await using var cluster = new TestCluster(30, Lease);
        var nodes = new[] { cluster.Start("node-a"), cluster.Start("node-b"), cluster.Start("node-c") };

        await Wait.UntilAsync(() => cluster.Balanced(_ => 10), TimeSpan.FromSeconds(10), "each of 3 nodes owning 10 of 30 cameras");

        Assert.Empty(cluster.Log.Overlaps);
        var assignments = await nodes[0].AssignmentsAsync();
        Assert.Equal(cluster.Cameras, assignments.Select(a => a.Camera));
        Assert.Equal(cluster.Holders().OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => h.Value), assignments.Select(a => a.Node));
    }

    [Fact]
    public async Task A_killed_nodes_cameras_go_to_the_others_within_two_leases()
    {
        await using var cluster = new TestCluster(30, Lease);
        var nodes = new[] { cluster.Start("node-a"), cluster.Start("node-b"), cluster.Start("node-c") };
        await Wait.UntilAsync(() => cluster.Balanced(_ => 10), TimeSpan.FromSeconds(10), "3 nodes balanced");

        var killed = Stopwatch.StartNew();
        await cluster.KillAsync(nodes[1]);
        await Wait.UntilAsync(() => cluster.Balanced(_ => 15), TimeSpan.FromSeconds(10), "the 2 survivors owning 15 each");
        var takeover = killed.Elapsed;

        output.WriteLine($"takeover after a kill: {takeover.TotalSeconds:F2} s (lease {Lease.TotalSeconds} s, limit {2 * Lease.TotalSeconds} s)");
        Assert.True(takeover < 2 * Lease, $"takeover took {takeover.TotalSeconds:F2} s, over two leases");
        Assert.Empty(cluster.Log.Overlaps);
    }

    [Fact]
    public async Task A_joining_node_takes_its_share_and_only_that_many_cameras_move()
    {
        await using var cluster = new TestCluster(30, Lease);
        cluster.Start("node-a");
        cluster.Start("node-b");
        cluster.Start("node-c");
        await Wait.UntilAsync(() => cluster.Balanced(_ => 10), TimeSpan.FromSeconds(10), "3 nodes balanced");
        var before = cluster.Holders();
        var since = cluster.Log.Sequence;

        var joined = cluster.Start("node-d");
        // 30 over 4: two nodes get 8, two get 7 (ties go to the lower ids).
        await Wait.UntilAsync(() => cluster.Balanced(n => n.NodeId is "node-a" or "node-b" ? 8 : 7), TimeSpan.FromSeconds(15), "4 nodes at 8, 8, 7, 7");

        var after = cluster.Holders();
        var moved = cluster.Cameras.Count(c => before[c] != after[c]);
        var gains = cluster.Log.GainsSince(since);
        output.WriteLine($"join: node-d owns {joined.Owned.Count}, cameras that changed node: {moved}, gains by node: {string.Join(", ", gains.Select(g => $"{g.Key}={g.Value}"))}");
        Assert.True(moved == joined.Owned.Count, $"{moved} cameras moved for node-d's {joined.Owned.Count}; warnings:{Environment.NewLine}{cluster.Warnings}");
        // Only the newcomer gained anything, once per camera: nothing bounced between the old nodes.
        Assert.True(gains.Count == 1 && gains.GetValueOrDefault("node-d") == 7, $"gains after the join: {string.Join(", ", gains.Select(g => $"{g.Key}={g.Value}"))}; warnings:{Environment.NewLine}{cluster.Warnings}");
        Assert.Empty(cluster.Log.Overlaps);
    }

    [Fact]
    public async Task A_partitioned_node_stops_its_cameras_before_its_leases_end_and_another_takes_them_after()
    {
        await using var cluster = new TestCluster(30, Lease);
        // The partitioned node logs in as its own role: refusing that role's logins and ending its sessions cuts it off.
        var role = $"partitioned_{Guid.NewGuid():N}"[..30];
        await ExecuteAsync(cluster.ConnectionString, $"CREATE ROLE {role} LOGIN SUPERUSER");
        var cutOff = cluster.Start("node-a", connectionString: new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { Username = role, Password = Secret }.ConnectionString);
        cluster.Start("node-b");
        cluster.Start("node-c");
        await Wait.UntilAsync(() => cluster.Balanced(_ => 10), TimeSpan.FromSeconds(10), "3 nodes balanced");
        var itsCameras = cutOff.Owned.ToList();
        DateTime? stoppedAt = null;
        cutOff.Changed += _ => { if (cutOff.Owned.Count == 0) stoppedAt ??= DateTime.UtcNow; };

        await ExecuteAsync(cluster.ConnectionString, $"ALTER ROLE {role} NOLOGIN; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'");
        // No session of the node is left to renew: these are when its leases end.
        var leasesEnd = await ScalarAsync<DateTime>(cluster.ConnectionString, "SELECT max(lease_until) FROM camera_leases WHERE node_id = 'node-a'");
        var others = cluster.Running.Where(n => n != cutOff).ToList();
        await Wait.UntilAsync(() => others.Sum(n => n.Owned.Count) == 30, TimeSpan.FromSeconds(10), "the 2 connected nodes owning all 30");

        Assert.Empty(cluster.Log.Overlaps);
        Assert.True(stoppedAt is not null, $"node-a, cut off, still runs {cutOff.Owned.Count} cameras after its leases ended and others took them");
        output.WriteLine($"partition: node-a stopped its cameras {(leasesEnd - stoppedAt.Value).TotalMilliseconds:F0} ms before its leases ended");
        Assert.True(stoppedAt < leasesEnd, $"node-a stopped at {stoppedAt:O}, its leases ended at {leasesEnd:O}");
        var firstClaim = await ScalarAsync<DateTime>(cluster.ConnectionString, "SELECT min(claimed_at) FROM camera_leases WHERE camera_id = ANY(@ids)", itsCameras.ToArray());
        Assert.True(firstClaim > leasesEnd, $"a camera of node-a was claimed at {firstClaim:O}, before its lease ended at {leasesEnd:O}");
        // Its failed renewals were logged (trust authentication ignores the password), and never with the password.
        Assert.Contains("could not renew", cluster.Warnings);
        Assert.DoesNotContain(Secret, cluster.Logs.All);
    }

    [Fact]
    public async Task Shares_follow_the_capacities()
    {
        await using var cluster = new TestCluster(30, Lease);
        cluster.Start("node-big", capacity: 2.0);
        cluster.Start("node-small", capacity: 1.0);

        await Wait.UntilAsync(() => cluster.Balanced(n => n.NodeId == "node-big" ? 20 : 10), TimeSpan.FromSeconds(10), "20 on the node of capacity 2, 10 on the other");
        Assert.Empty(cluster.Log.Overlaps);
    }

    internal static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql, string[]? ids = null)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        if (ids is not null) cmd.Parameters.AddWithValue("ids", ids);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }
}
