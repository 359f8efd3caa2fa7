namespace CitySight.Service.Cluster;

/// <summary>
/// Which node runs which camera, as this node last heard it: its own id, and a snapshot of every camera's owner that the
/// cluster's ownership loop replaces after each tick. Read by the admin API and /healthz; never blocks on the database.
/// </summary>
public sealed class ClusterPlacement(string nodeId)
{
    private volatile IReadOnlyDictionary<string, string> _owners = new Dictionary<string, string>();

    /// <summary>This node (cluster.node_id).</summary>
    public string NodeId { get; } = nodeId;

    /// <summary>The node that runs <paramref name="cameraId"/>, or null while none does.</summary>
    public string? NodeOf(string cameraId) => _owners.GetValueOrDefault(cameraId);

    /// <summary>Replaces the snapshot: camera id → node id, for the cameras some live node owns.</summary>
    public void Update(IReadOnlyDictionary<string, string> owners) => _owners = owners;
}
