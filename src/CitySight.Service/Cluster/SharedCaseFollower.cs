using CitySight.Cases;
using CitySight.Rules;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CitySight.Service.Cluster;

/// <summary>
/// In a cluster: follows the one shared case feed and tells this node's case raising of every case any node opened,
/// saw again or closed (<see cref="CaseRaiser.OnSharedCase"/>), so one object seen by cameras on two nodes stays one case
/// and a place cooled down by dispatch on one node is quiet on all. Starts at the feed's head (older cases are read at
/// start-up by the raiser itself) and follows on after a failure from where it was.
/// </summary>
public sealed class SharedCaseFollower(ICaseFeed feed, CaseRaiser raiser, ILogger<SharedCaseFollower> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var after = feed.LastSequence;
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var e in feed.EventsAsync(after, includeEvidence: false, stoppingToken))
                {
                    raiser.OnSharedCase(e.Case);
                    after = e.Sequence;
                    delay = TimeSpan.FromSeconds(1);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return; // the store is closing with the service
            }
            catch (Exception ex)
            {
                logger.LogWarning("Following the shared case feed failed after sequence {After} ({Error}); again in {Delay} s",
                    after, ex.Message, delay.TotalSeconds);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
                delay = delay * 2 > TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : delay * 2;
            }
        }
    }
}
