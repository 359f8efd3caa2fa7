using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace CitySight.Cluster;

/// <summary>
/// This node's share of the enabled cameras, agreed with the other nodes through one PostgreSQL database: a camera
/// runs where it holds a lease (a row of <c>camera_leases</c>, so at most one node by its primary key). Every third of
/// a lease the node heartbeats, renews its leases, gives up a few cameras above its share (a node joined) and claims
/// free or expired ones up to it (a node died: its leases ran out). A node that cannot renew drops its cameras from
/// <see cref="Owned"/> before its leases end in the database (the fence), so no camera runs on two nodes.
/// </summary>
public sealed class CameraOwnership : IAsyncDisposable
{
    private static readonly IReadOnlySet<string> None = new HashSet<string>();

    private readonly NpgsqlDataSource _dataSource;
    private readonly LeaseStore _store;
    private readonly ClusterOptions _options;
    private readonly ILogger _logger;
    // A plain object, not a Lock: the fence thread waits on it (Monitor.Wait) for its deadline or a renewal.
    private readonly object _gate = new();
    private readonly Thread _fence;
    private readonly long _fenceTicks;

    private string[] _cameras = [];
    private HashSet<string> _configured = new(StringComparer.Ordinal);
    private int _camerasVersion;
    private int _syncedVersion = -1;
    private volatile IReadOnlySet<string> _owned = None;
    private long _fenceAt = long.MaxValue;
    private bool _disposed;
    private bool _schemaReady;
    private long _ticks;

    /// <param name="connectionString">The shared database; never logged.</param>
    /// <param name="nodeId">This node's id, unique in the cluster (<c>cluster.node_id</c>, the host name by default).</param>
    public CameraOwnership(string connectionString, string nodeId, ClusterOptions options, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nodeId);
        options.Validate();
        NodeId = nodeId;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        // The application name lets an operator (and the tests) find a node's connections in pg_stat_activity.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = $"citysight-cluster {nodeId}" };
        _dataSource = NpgsqlDataSource.Create(builder);
        _store = new LeaseStore(_dataSource, nodeId, options);
        _fenceTicks = (long)(options.Lease.TotalSeconds * options.FenceFraction * Stopwatch.Frequency);
        // Its own thread, not a thread-pool timer: on a busy machine a pool callback can queue for hundreds of
        // milliseconds, past the margin between the fence and the lease's end.
        _fence = new Thread(FenceLoop) { IsBackground = true, Name = "cluster fence" };
        _fence.Start();
    }

    /// <summary>This node's id in <c>cluster_nodes</c> and <c>camera_leases</c>.</summary>
    public string NodeId { get; }

    /// <summary>The cameras this node may run now. A new set is published on every change; it is never modified.</summary>
    public IReadOnlySet<string> Owned => _owned;

    /// <summary>
    /// Raised (under this node's lock, so in order; keep handlers short) when <see cref="Owned"/> changes. A camera
    /// lost is raised before anything lets another node claim it.
    /// </summary>
    public event Action<OwnershipChange>? Changed;

    /// <summary>Ticks begun so far and database round trips so far (for the overhead figures).</summary>
    internal (long Ticks, long RoundTrips) Stats => (Interlocked.Read(ref _ticks), _store.RoundTrips);

    /// <summary>
    /// The enabled cameras of the shared configuration (every node loads the same files). Cameras no longer listed
    /// are stopped at once; the others are shared out from the next tick.
    /// </summary>
    public void SetCameras(IEnumerable<string> cameraIds)
    {
        var cameras = cameraIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        lock (_gate)
        {
            _cameras = cameras;
            _configured = new HashSet<string>(cameras, StringComparer.Ordinal);
            _camerasVersion++;
            Publish(_owned.Where(_configured.Contains));
        }
    }

    /// <summary>
    /// Ticks every third of a lease until cancelled. Cancelling stops this node's cameras here and leaves its leases
    /// to run out, like a killed process; <see cref="LeaveAsync"/> hands them over at once instead.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var period = new PeriodicTimer(_options.Lease / 3);
        try
        {
            do
            {
                // A tick that cannot finish within a lease is worthless (the fence has dropped everything by then).
                using var tickTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                tickTimeout.CancelAfter(_options.Lease);
                try
                {
                    await TickAsync(tickTimeout.Token);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    // Whatever went wrong, the loop goes on: the fence stops the cameras if renewals keep failing.
                    // The message names the server's address at most, never the connection string's password.
                    _logger.LogWarning("cluster: node {Node} could not renew its camera leases: {Error}", NodeId, e.Message);
                }
            }
            while (await period.WaitForNextTickAsync(cancellationToken));
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: whatever the last tick met on its way out (a cancelled command, a refused heartbeat) ends here.
        }
        finally
        {
            lock (_gate)
            {
                _fenceAt = long.MaxValue;
                Publish([]);
            }
        }
    }

    /// <summary>
    /// A clean shutdown, after <see cref="RunAsync"/> has stopped: stops every camera here, then ends this node's leases
    /// and heartbeat so the other nodes take the cameras on their next tick instead of after a lease.
    /// </summary>
    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        lock (_gate) Publish([]);
        await _store.ReleaseAsync(null, cancellationToken);
        await _store.LeaveAsync(cancellationToken);
    }

    /// <summary>Every configured camera and the node that runs it now (null: none yet), for the admin list.</summary>
    public Task<IReadOnlyList<(string Camera, string? Node)>> AssignmentsAsync(CancellationToken cancellationToken = default)
    {
        string[] cameras;
        lock (_gate) cameras = _cameras;
        return _store.AssignmentsAsync(cameras, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _disposed = true;
            Monitor.PulseAll(_gate);
        }
        _fence.Join();
        await _dataSource.DisposeAsync();
    }

    // Internal for the overhead measurement, which ticks nodes by hand.
    internal async Task TickAsync(CancellationToken ct)
    {
        if (!_schemaReady)
        {
            await _store.EnsureSchemaAsync(ct);
            _schemaReady = true;
        }
        string[] cameras;
        int version;
        lock (_gate) (cameras, version) = (_cameras, _camerasVersion);
        var tick = Interlocked.Increment(ref _ticks);
        if (version != _syncedVersion || tick % 30 == 0)
        {
            // Only a change of the list deletes rows: two nodes briefly on different files must not undo each other.
            await _store.SyncCamerasAsync(cameras, removeOthers: version != _syncedVersion && _syncedVersion >= 0, ct);
            _syncedVersion = version;
        }
        // Taken before the transaction begins, so before the database's now() that dates the leases: the fence
        // computed from it falls before they end.
        var started = Stopwatch.GetTimestamp();
        // The first tick only says the node is here: nodes started together see each other before anyone claims.
        var result = await _store.TickAsync(cameras, mayClaim: tick > 1, ct);
        IReadOnlyList<string> surplus;
        lock (_gate)
        {
            if (Stopwatch.GetTimestamp() >= started + _fenceTicks)
            {
                _logger.LogWarning("cluster: node {Node}'s renewal took past its fence; its cameras stay stopped", NodeId);
                return;
            }
            var drop = result.Surplus.ToHashSet(StringComparer.Ordinal);
            Publish(result.Renewed.Concat(result.Claimed).Where(c => _configured.Contains(c) && !drop.Contains(c)));
            _fenceAt = started + _fenceTicks;
            Monitor.PulseAll(_gate);
            surplus = result.Surplus;
        }
        // Stopped above, released now: the node that claims them next cannot start them while they still run here.
        if (surplus.Count > 0) await _store.ReleaseAsync(surplus, ct);
        if (result.Claimed.Count > 0 || surplus.Count > 0)
            _logger.LogInformation("cluster: node {Node} holds {Owned} of its share {Share} ({Live} live nodes): claimed {Claimed}, released {Released}",
                NodeId, _owned.Count, result.Share, result.LiveNodes, result.Claimed.Count, surplus.Count);
    }

    // Drops every camera when the last renewal is older than the fence, whatever the tick loop is stuck on.
    private void FenceLoop()
    {
        lock (_gate)
        {
            while (!_disposed)
            {
                if (_fenceAt == long.MaxValue)
                {
                    Monitor.Wait(_gate);
                    continue;
                }
                var left = _fenceAt - Stopwatch.GetTimestamp();
                if (left > 0)
                {
                    // Woken early by a renewal (the fence moved on) or on time; rounded up so it never wakes just short.
                    Monitor.Wait(_gate, TimeSpan.FromMilliseconds(Math.Ceiling(left * 1000.0 / Stopwatch.Frequency)));
                    continue;
                }
                _fenceAt = long.MaxValue;
                if (_owned.Count > 0)
                    _logger.LogWarning("cluster: node {Node} could not renew its leases in time and stops its {Count} cameras", NodeId, _owned.Count);
                Publish([]);
            }
        }
    }

    // Under _gate: makes the new set visible and says what changed.
    private void Publish(IEnumerable<string> owned)
    {
        var next = new HashSet<string>(owned, StringComparer.Ordinal);
        var before = _owned;
        var gained = next.Where(c => !before.Contains(c)).ToHashSet(StringComparer.Ordinal);
        var lost = before.Where(c => !next.Contains(c)).ToHashSet(StringComparer.Ordinal);
        if (gained.Count == 0 && lost.Count == 0) return;
        _owned = next;
        Changed?.Invoke(new OwnershipChange(gained, lost));
    }
}
