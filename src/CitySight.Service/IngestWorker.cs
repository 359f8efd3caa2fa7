using CitySight.Configuration;
using CitySight.Ingest;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CitySight.Service;

/// <summary>Runs one supervised source per enabled camera; each retries on its own, so one broken camera never stops the others.</summary>
public sealed class IngestWorker : BackgroundService
{
    private readonly PipelineChannels _channels;

    public IngestWorker(CitySightConfig config, PipelineChannels channels, ILoggerFactory loggers)
    {
        _channels = channels;
        Sources = config.Cameras
            .Where(c => c.Enabled)
            .Select(c => new CameraSource(c, loggers.CreateLogger($"CitySight.Camera.{c.Id}")))
            .ToList();
    }

    public IReadOnlyList<CameraSource> Sources { get; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.WhenAll(Sources.Select(s => s.RunAsync(_channels.WriterFor(s.Camera), stoppingToken)));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        finally
        {
            _channels.Frames.Complete();
        }
    }
}
