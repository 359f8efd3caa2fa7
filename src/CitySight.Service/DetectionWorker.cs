using CitySight.Configuration;
using Microsoft.Extensions.Hosting;

namespace CitySight.Service;

/// <summary>Runs the detect stage for the service's lifetime: every camera's frames to the shared models and on to the rules.</summary>
public sealed class DetectionWorker(DetectionStage stage, PipelineChannels channels) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Inference is CPU-bound: keep it off the start-up path.
        await Task.Yield();
        await stage.RunAsync(channels.Frames, channels.Detected.Writer, stoppingToken);
    }
}
