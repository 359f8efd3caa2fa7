using CitySight.Configuration;
using CitySight.Domain;
using CitySight.Ingest;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace CitySight.Service.Patrol;

/// <summary>Takes one fresh frame from a camera: connect, decode one keyframe, disconnect.</summary>
public interface ICameraVisitor
{
    Task<Frame> VisitAsync(Camera camera, CancellationToken ct);
}

/// <summary>
/// 轮巡: visits the patrolled cameras in turn, <see cref="IngestSettings.PatrolConcurrency"/> at a time, most overdue
/// first, and hands each fresh frame to the detector like any other camera's.
/// </summary>
public sealed class PatrolWorker : BackgroundService
{
    private static readonly Counter Visits = Metrics.CreateCounter("citysight_patrol_visits_total", "Patrol visits that returned a frame.", "group");
    private static readonly Counter Failures = Metrics.CreateCounter("citysight_patrol_failures_total", "Patrol visits that failed.", "group", "reason");
    private static readonly Gauge WorstGapSeconds = Metrics.CreateGauge("citysight_patrol_worst_gap_seconds", "Longest time between two visits of one patrolled camera.");
    private static readonly Gauge Overdue = Metrics.CreateGauge("citysight_patrol_overdue_seconds", "How late the most overdue patrol visit is.");
    private static readonly Histogram VisitSeconds = Metrics.CreateHistogram("citysight_patrol_visit_seconds", "Wall time of one patrol visit.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.05, 2, 10) });

    private readonly ICameraVisitor _visitor;
    private readonly PipelineChannels _channels;
    private readonly IngestSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger<PatrolWorker> _logger;
    private readonly PatrolPlan _plan;
    private readonly SemaphoreSlim _visitEnded = new(0);

    public PatrolWorker(IReadOnlyList<Camera> cameras, ICameraVisitor visitor, PipelineChannels channels, IngestSettings settings,
        TimeProvider time, ILogger<PatrolWorker> logger)
    {
        _visitor = visitor;
        _channels = channels;
        _settings = settings;
        _time = time;
        _logger = logger;
        _plan = new PatrolPlan(cameras, time.GetUtcNow());
    }

    /// <summary>A consistent copy of the rotation, for health and tests.</summary>
    public IReadOnlyList<PatrolCameraStatus> Status()
    {
        lock (_plan)
            return _plan.Entries.Select(e => new PatrolCameraStatus(e.Camera.Id, e.Visiting, e.LastVisit, e.DueAt, e.LastGap, e.WorstGap, e.ConsecutiveFailures, e.Reason)).ToList();
    }

    public TimeSpan WorstGap { get { lock (_plan) return _plan.WorstGap; } }

    /// <summary>
    /// A patrolled camera's health changed: its first visit, a failure after success, a success after failures
    /// (camera id, healthy, reason when not, when). Only changes, so 1000 cameras visited every minute stay quiet.
    /// Raised on a visit's task: handlers must be quick and must not throw.
    /// </summary>
    public event Action<string, bool, string?, DateTimeOffset>? HealthChanged;

    private readonly Dictionary<string, bool> _healthy = new(StringComparer.Ordinal);

    private void Report(string cameraId, bool healthy, string? reason, DateTimeOffset at)
    {
        lock (_healthy)
        {
            if (_healthy.TryGetValue(cameraId, out var was) && was == healthy) return;
            _healthy[cameraId] = healthy;
        }
        HealthChanged?.Invoke(cameraId, healthy, reason, at);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_plan.Entries.Count == 0)
        {
            _channels.ProducerStopped();
            return;
        }
        _logger.LogInformation("Patrol of {Count} camera(s), {Concurrency} visit(s) at a time", _plan.Entries.Count, _settings.PatrolConcurrency);
        var writers = _plan.Entries.ToDictionary(e => e.Camera.Id, e => _channels.WriterFor(e.Camera));
        var free = _settings.PatrolConcurrency;
        var running = new List<Task>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                DateTimeOffset? next;
                var now = _time.GetUtcNow();
                lock (_plan)
                {
                    while (Volatile.Read(ref free) > 0 && _plan.TryTake(now, out var entry))
                    {
                        Interlocked.Decrement(ref free);
                        running.Add(VisitAsync(entry, writers[entry.Camera.Id], () => Interlocked.Increment(ref free), stoppingToken));
                    }
                    next = _plan.NextDue;
                    Overdue.Set(next is { } n && n < now ? (now - n).TotalSeconds : 0);
                    WorstGapSeconds.Set(_plan.WorstGap.TotalSeconds);
                }
                running.RemoveAll(t => t.IsCompleted);

                // Sleep until a visit ends (a slot is free) or the next one falls due, whichever is first.
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var ended = _visitEnded.WaitAsync(wake.Token);
                var delay = next is { } due && Volatile.Read(ref free) > 0 ? Max(due - now, TimeSpan.Zero) : Timeout.InfiniteTimeSpan;
                var timer = Task.Delay(delay, _time, wake.Token);
                await Task.WhenAny(ended, timer);
                // Cancels the loser; a cancelled wait took no count from the semaphore.
                wake.Cancel();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        // Visits end on cancellation and never throw: wait for them so no ffmpeg outlives the service.
        await Task.WhenAll(running);
        _channels.ProducerStopped();
    }

    private async Task VisitAsync(PatrolEntry entry, System.Threading.Channels.ChannelWriter<Frame> writer, Action release, CancellationToken ct)
    {
        await Task.Yield();
        var camera = entry.Camera;
        var started = _time.GetTimestamp();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_settings.SnapshotTimeout);
            Frame frame;
            try
            {
                frame = await _visitor.VisitAsync(camera, timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new StreamException(camera.Id, Secrets.RedactUrl(camera.Url), StreamFailureKind.Timeout,
                    $"no frame within {_settings.SnapshotTimeout.TotalSeconds:F0} s");
            }
            var visited = _time.GetUtcNow();
            lock (_plan) _plan.Visited(entry, visited);
            Visits.WithLabels(camera.GroupId).Inc();
            Report(camera.Id, true, null, visited);
            await writer.WriteAsync(frame, ct);
        }
        catch (StreamException ex)
        {
            var slow = ex.Kind is StreamFailureKind.Unauthorized or StreamFailureKind.UnknownHost;
            var failed = _time.GetUtcNow();
            lock (_plan) _plan.Failed(entry, failed, ex.Reason, slow);
            Failures.WithLabels(camera.GroupId, ex.Kind.ToString()).Inc();
            Report(camera.Id, false, ex.Reason, failed);
            _logger.LogWarning("Patrol visit of camera {Camera} failed: {Reason}", camera.Id, ex.Reason);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception ex)
        {
            var failed = _time.GetUtcNow();
            lock (_plan) _plan.Failed(entry, failed, Secrets.Scrub(ex.Message, camera.Url));
            Failures.WithLabels(camera.GroupId, "error").Inc();
            Report(camera.Id, false, Secrets.Scrub(ex.Message, camera.Url), failed);
            _logger.LogWarning("Patrol visit of camera {Camera} failed: {Reason}", camera.Id, Secrets.Scrub(ex.Message, camera.Url));
        }
        finally
        {
            VisitSeconds.Observe(_time.GetElapsedTime(started).TotalSeconds);
            release();
            _visitEnded.Release();
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}

public sealed record PatrolCameraStatus(
    string CameraId, bool Visiting, DateTimeOffset? LastVisit, DateTimeOffset DueAt, TimeSpan? LastGap, TimeSpan WorstGap,
    int ConsecutiveFailures, string? Reason);
