using System.Threading.Channels;
using CitySight.Cluster;
using CitySight.Configuration;
using CitySight.Service.Admin;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CitySight.Service.Cluster;

/// <summary>
/// This node's part in a cluster: runs the camera ownership loop (leases in PostgreSQL), and each time what this node
/// owns changes, starts the cameras it gained and stops those it lost through the admin's camera machinery (as a
/// reload does); keeps the snapshot of who runs what for the admin list; hands the ownership the enabled cameras of
/// the shared configuration at start and after each reload. A reload on any node is a reload on every node: announced
/// with NOTIFY on <see cref="ReloadChannel"/>, each other node reads the same files again.
/// </summary>
public sealed class ClusterNode(CameraOwnership ownership, CameraAdministrator admin, CameraDirectory directory, ClusterPlacement placement,
    string connectionString, ILogger<ClusterNode> logger) : BackgroundService
{
    /// <summary>The PostgreSQL notification channel a node's reload is announced on (payload: the node's id).</summary>
    public const string ReloadChannel = "citysight_reload";

    /// <summary>How often the admin list's placement is read again when nothing changed here.</summary>
    private static readonly TimeSpan PlacementRefresh = TimeSpan.FromSeconds(5);

    private readonly Channel<bool> _reloads = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>The cameras of <paramref name="config"/> that should run somewhere (enabled in their files).</summary>
    public static IEnumerable<string> Enabled(CitySightConfig config) => config.Cameras.Where(c => c.Enabled).Select(c => c.Id);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // One pending wake is enough: the apply loop always applies what is owned at that moment.
        var changed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        void Wake(OwnershipChange _) => changed.Writer.TryWrite(true);
        void Reloaded(CitySightConfig shared, bool announce)
        {
            ownership.SetCameras(Enabled(shared));
            if (announce) _ = AnnounceReloadAsync();
        }
        ownership.Changed += Wake;
        admin.CamerasReloaded += Reloaded;
        try
        {
            ownership.SetCameras(Enabled(directory.Shared));
            var leases = ownership.RunAsync(stoppingToken);
            var apply = ApplyAsync(changed.Reader, stoppingToken);
            await Task.WhenAll(leases, apply, ListenForReloadsAsync(stoppingToken), ReloadAsync(stoppingToken)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            ownership.Changed -= Wake;
            admin.CamerasReloaded -= Reloaded;
        }
    }

    private async Task ApplyAsync(ChannelReader<bool> changed, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            if (changed.TryRead(out _))
            {
                var owned = new HashSet<string>(ownership.Owned, StringComparer.Ordinal);
                try
                {
                    await admin.ApplyOwnershipAsync(owned, ct).ConfigureAwait(false);
                }
                catch (CameraAdminException ex)
                {
                    logger.LogError("Cameras of this node could not be changed to the {Count} it owns: {Error}", owned.Count, ex.Message);
                }
            }
            await RefreshPlacementAsync(ct).ConfigureAwait(false);
            // Woken by a change of ownership, or now and then to keep the admin list's placement fresh.
            try
            {
                await changed.WaitToReadAsync(ct).AsTask().WaitAsync(PlacementRefresh, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    /// <summary>Who runs what, for the admin list: read from the leases now and then, never on a caller's path.</summary>
    private async Task RefreshPlacementAsync(CancellationToken ct)
    {
        try
        {
            var owners = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (camera, node) in await ownership.AssignmentsAsync(ct).ConfigureAwait(false))
                if (node is not null) owners[camera] = node;
            placement.Update(owners);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogDebug("Reading who runs which camera failed: {Error}", ex.Message);
        }
    }

    private async Task AnnounceReloadAsync()
    {
        try
        {
            await using var conn = new NpgsqlConnection(connectionString);
            await conn.OpenAsync().ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand("SELECT pg_notify(@channel, @node);", conn);
            cmd.Parameters.AddWithValue("channel", ReloadChannel);
            cmd.Parameters.AddWithValue("node", placement.NodeId);
            await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
        {
            logger.LogWarning("The other nodes could not be told of this reload ({Error}): reload them by hand", ex.Message);
        }
    }

    /// <summary>Listens for other nodes' reloads on a connection of its own, coming back after every drop.</summary>
    private async Task ListenForReloadsAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var keepAlive = new NpgsqlConnectionStringBuilder(connectionString) { KeepAlive = 10, Pooling = false };
                await using var conn = new NpgsqlConnection(keepAlive.ConnectionString);
                await conn.OpenAsync(ct).ConfigureAwait(false);
                conn.Notification += (_, e) =>
                {
                    if (e.Channel == ReloadChannel && e.Payload != placement.NodeId) _reloads.Writer.TryWrite(true);
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {ReloadChannel};", conn))
                    await listen.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                while (!ct.IsCancellationRequested) await conn.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
            {
                logger.LogWarning("Listening for other nodes' reloads failed ({Error}); again in 2 s", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), ct).ConfigureAwait(false);
            }
        }
    }

    private async Task ReloadAsync(CancellationToken ct)
    {
        await foreach (var _ in _reloads.Reader.ReadAllAsync(ct).ConfigureAwait(false))
        {
            try
            {
                var reply = await admin.ReloadAsync(ct, announce: false).ConfigureAwait(false);
                logger.LogInformation("Reloaded as another node did: {Result}", reply.Ok ? "applied" : "refused, " + string.Join("; ", reply.Errors));
            }
            catch (CameraAdminException ex)
            {
                logger.LogError("Reload asked for by another node failed: {Error}", ex.Message);
            }
        }
    }
}
