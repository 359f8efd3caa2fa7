using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CitySight.Cases;

/// <summary>Keeps the evidence folder within its retention: at start-up, then every hour.</summary>
public sealed class EvidenceRetentionWorker(EvidenceRetentionOptions options, IEvidenceStore store, TimeProvider clock, ILogger<EvidenceRetentionWorker> logger)
    : BackgroundService
{
    private static readonly TimeSpan Every = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var maxBytes = (long)(options.EvidenceMaxGigabytes * 1024 * 1024 * 1024);
        using var timer = new PeriodicTimer(Every, clock);
        do
        {
            try
            {
                var cutoff = clock.GetUtcNow() - TimeSpan.FromDays(options.EvidenceRetentionDays);
                var pruned = await store.PruneEvidenceAsync(cutoff, maxBytes, stoppingToken);
                if (pruned.Cases > 0)
                    logger.LogInformation("Evidence retention: pictures of {Cases} case(s) removed, {Freed:F1} MB freed, {Kept:F1} MB kept",
                        pruned.Cases, pruned.BytesFreed / 1048576.0, pruned.BytesKept / 1048576.0);
                if (pruned.BytesKept > maxBytes)
                    logger.LogWarning("Evidence folder holds {Kept:F1} MB, over its {Max:F1} MB limit, all of it proof of open cases",
                        pruned.BytesKept / 1048576.0, maxBytes / 1048576.0);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Evidence retention failed; will try again in {Every}", Every);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
