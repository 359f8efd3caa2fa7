using System.Threading.Channels;
using CitySight.Domain;
using Microsoft.Extensions.Hosting;

namespace CitySight.Inference;

/// <summary>Runs the detect stage for the service's lifetime: every camera's frames to the shared models and on to the rules.</summary>
public sealed class DetectionWorker(DetectionStage stage, FrameMailboxes frames, ChannelWriter<DetectedFrame> detected) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Inference is CPU-bound: keep it off the start-up path.
        await Task.Yield();
        await stage.RunAsync(frames, detected, stoppingToken);
    }
}
