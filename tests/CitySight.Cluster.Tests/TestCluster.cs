using CitySight.Cluster;
using CitySight.Tests;

namespace CitySight.Cluster.Tests;

/// <summary>Nodes of one cluster on a fresh database of the test PostgreSQL, each running its loop until stopped.</summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private readonly List<(CameraOwnership Node, CancellationTokenSource Stop, Task Loop)> _nodes = [];

    public TestCluster(int cameras, TimeSpan lease, string prefix = "camera")
    {
        ConnectionString = PostgresServer.NewDatabase("cluster");
        Cameras = [.. Enumerable.Range(1, cameras).Select(i => $"{prefix}-{i:D4}")];
        Lease = lease;
    }

    public string ConnectionString { get; }
    public string[] Cameras { get; }
    public TimeSpan Lease { get; }
    public OwnershipLog Log { get; } = new();

    /// <summary>Every node's log (a failed renewal, a fence), for failure messages and the secrets check.</summary>
    public CapturingLogger Logs { get; } = new();

    /// <summary>The nodes' warnings so far, one a line: why a camera moved that should not have.</summary>
    public string Warnings => string.Join(Environment.NewLine, Logs.Lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal)));

    public IEnumerable<CameraOwnership> Running => _nodes.Where(n => !n.Stop.IsCancellationRequested).Select(n => n.Node);

    public CameraOwnership Start(string nodeId, double capacity = 1.0, string? connectionString = null)
    {
        var node = new CameraOwnership(connectionString ?? ConnectionString, nodeId, new ClusterOptions { Lease = Lease, Capacity = capacity }, Logs);
        Log.Watch(node);
        node.SetCameras(Cameras);
        var stop = new CancellationTokenSource();
        _nodes.Add((node, stop, Task.Run(() => node.RunAsync(stop.Token))));
        return node;
    }

    /// <summary>Stops a node's loop without releasing anything, as kill -9 would: its leases are left to run out.</summary>
    public async Task KillAsync(CameraOwnership node)
    {
        var entry = _nodes.Single(n => n.Node == node);
        await entry.Stop.CancelAsync();
        await entry.Loop;
    }

    /// <summary>True when the running nodes hold every camera once and each holds <paramref name="share"/>(node).</summary>
    public bool Balanced(Func<CameraOwnership, int> share)
    {
        var running = Running.ToList();
        var owned = running.Select(n => (Node: n, Owned: n.Owned)).ToList();
        var union = owned.SelectMany(o => o.Owned).ToList();
        return union.Count == Cameras.Length && union.ToHashSet().SetEquals(Cameras) && owned.All(o => o.Owned.Count == share(o.Node));
    }

    /// <summary>Who holds each camera now, from the running nodes' Owned.</summary>
    public Dictionary<string, string> Holders() =>
        Running.SelectMany(n => n.Owned.Select(c => (Camera: c, n.NodeId))).ToDictionary(x => x.Camera, x => x.NodeId);

    public async ValueTask DisposeAsync()
    {
        foreach (var (node, stop, loop) in _nodes)
        {
            await stop.CancelAsync();
            try { await loop; } catch (OperationCanceledException) { }
            await node.DisposeAsync();
            stop.Dispose();
        }
    }
}
