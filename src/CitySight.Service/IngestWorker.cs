using CitySight.Configuration;
using CitySight.Domain;
using CitySight.Ingest;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CitySight.Service;

/// <summary>
/// Holds one supervised stream per continuous camera, up to the machine's stream budget; each retries on its own, so one
/// broken camera never stops the others. Cameras in patrol groups, and continuous ones beyond the budget, are left to
/// the patrol (<see cref="Patrol.PatrolWorker"/>).
/// </summary>
public sealed class IngestWorker : BackgroundService
{
    private readonly PipelineChannels _channels;
    private readonly ILogger<IngestWorker> _logger;
    private readonly IReadOnlyList<Camera> _overBudget;

    public IngestWorker(CitySightConfig config, PipelineChannels channels, ILoggerFactory loggers)
    {
        _channels = channels;
        _logger = loggers.CreateLogger<IngestWorker>();
        var (streamed, overBudget) = Split(config);
        _overBudget = overBudget;
        var ingest = config.Ingest;
        Sources = streamed
            .Select(c => new CameraSource(c, loggers.CreateLogger($"CitySight.Camera.{c.Id}"), new CameraSourceOptions
            {
                MaxWidth = ingest.MaxFrameWidth,
                MaxHeight = ingest.MaxFrameHeight,
            }))
            .ToList();
    }

    public IReadOnlyList<CameraSource> Sources { get; }

    /// <summary>Continuous cameras that get a stream of their own, and those that do not fit the budget (patrolled instead).</summary>
    public static (IReadOnlyList<Camera> Streamed, IReadOnlyList<Camera> OverBudget) Split(CitySightConfig config)
    {
        // Disabled cameras keep their place in the list so their state is reported (Disabled), but use no budget.
        var continuous = config.Cameras.Where(c => c.Mode == IngestMode.Continuous).ToList();
        var streamed = new List<Camera>();
        var over = new List<Camera>();
        var budget = config.Ingest.MaxStreams;
        foreach (var c in continuous)
        {
            if (!c.Enabled || budget > 0) { streamed.Add(c); if (c.Enabled) budget--; }
            else over.Add(c);
        }
        return (streamed, over);
    }

    /// <summary>Every camera the patrol visits: enabled cameras of patrol groups plus continuous ones over the stream budget.</summary>
    public static IReadOnlyList<Camera> Patrolled(CitySightConfig config) =>
        [.. config.Cameras.Where(c => c.Mode == IngestMode.Patrol && c.Enabled), .. Split(config).OverBudget];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_overBudget.Count > 0)
            _logger.LogWarning("{Count} continuous camera(s) exceed ingest.max_streams and are patrolled instead: {Cameras}",
                _overBudget.Count, string.Join(", ", _overBudget.Take(20).Select(c => c.Id)) + (_overBudget.Count > 20 ? ", …" : ""));
        try
        {
            await Task.WhenAll(Sources.Select(s => s.RunAsync(_channels.WriterFor(s.Camera), stoppingToken)));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        finally
        {
            _channels.ProducerStopped();
        }
    }
}
