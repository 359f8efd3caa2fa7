using System.Threading.Channels;
using CitySight.Domain;
using Microsoft.Extensions.Hosting;

namespace CitySight.Tracking;

/// <summary>Runs the tracking stage for the service's lifetime: detected frames in, tracked frames out to the rules.</summary>
public sealed class TrackingWorker(TrackingStage stage, ChannelReader<DetectedFrame> input, ChannelWriter<TrackedFrame> output)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Keep the loop off the start-up path.
        await Task.Yield();
        await stage.RunAsync(input, output, stoppingToken);
    }
}
