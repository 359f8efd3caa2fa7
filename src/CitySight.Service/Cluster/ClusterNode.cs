using System.Threading.Channels;
using CitySight.Cluster;
using CitySight.Configuration;
using CitySight.Service.Admin;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CitySight.Service.Cluster;

/// <summary>
/// This node's part in a cluster: runs the camera ownership loop (leases in PostgreSQL), and each time what this node
/// owns changes, starts the cameras it gained and stops those it lost through the admin's camera machinery (as a
/// reload does); keeps the snapshot of who runs what for the admin list; hands the ownership the enabled cameras of
/// the shared configuration at start and after each reload.
/// </summary>
public sealed class ClusterNode(CameraOwnership ownership, CameraAdministrator admin, CameraDirectory directory, ClusterPlacement placement,
    ILogger<ClusterNode> logger) : BackgroundService
{
    /// <summary>The cameras of <paramref name="config"/> that should run somewhere (enabled in their files).</summary>
    public static IEnumerable<string> Enabled(CitySightConfig config) => config.Cameras.Where(c => c.Enabled).Select(c => c.Id);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // One pending wake is enough: the apply loop always applies what is owned at that moment.
        var changed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        void Wake(OwnershipChange _) => changed.Writer.TryWrite(true);
        void Reloaded(CitySightConfig shared) => ownership.SetCameras(Enabled(shared));
        ownership.Changed += Wake;
        admin.CamerasReloaded += Reloaded;
        try
        {
            ownership.SetCameras(Enabled(directory.Shared));
            var leases = ownership.RunAsync(stoppingToken);
            var apply = ApplyAsync(changed.Reader, stoppingToken);
            await Task.WhenAll(leases, apply).ConfigureAwait(false);
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
        using var refresh = new PeriodicTimer(TimeSpan.FromSeconds(5));
        var tick = refresh.WaitForNextTickAsync(ct).AsTask();
        while (!ct.IsCancellationRequested)
        {
            var wake = changed.WaitToReadAsync(ct).AsTask();
            var first = await Task.WhenAny(wake, tick).ConfigureAwait(false);
            if (first == wake)
            {
                if (!await wake.ConfigureAwait(false)) return;
                changed.TryRead(out _);
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
            else
            {
                await tick.ConfigureAwait(false);
                tick = refresh.WaitForNextTickAsync(ct).AsTask();
            }
            await RefreshPlacementAsync(ct).ConfigureAwait(false);
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
}
