using CitySight.Domain;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using System.Threading.Channels;
using Prometheus;

namespace CitySight.Ingest.Patrol;

/// <summary>
/// 轮巡: visits the patrolled cameras in turn, <see cref="IngestOptions.PatrolConcurrency"/> at a time, most overdue
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
    private readonly FrameProducers _frames;
    private readonly IngestOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<PatrolWorker> _logger;
    private readonly PatrolPlan _plan;
    // Wakes the loop: a visit ended (a slot is free) or the rotation changed.
    private readonly SemaphoreSlim _wake = new(0);
    // Under _plan from here on.
    private readonly Dictionary<PatrolEntry, Visit> _visits = [];
    private readonly Dictionary<string, ChannelWriter<Frame>> _writers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _overrides = new(StringComparer.Ordinal);
    private bool _finished;
    private bool _producerStopped;

    /// <param name="cameras">The cameras to visit (see <see cref="IngestWorker.Patrolled"/>).</param>
    /// <param name="frames">The hand-off to detection; the patrol is one of its producers.</param>
    public PatrolWorker(IReadOnlyList<Camera> cameras, ICameraVisitor visitor, FrameProducers frames, IngestOptions options,
        TimeProvider time, ILogger<PatrolWorker> logger)
    {
        _visitor = visitor;
        _frames = frames;
        _options = options;
        _time = time;
        _logger = logger;
        _plan = new PatrolPlan(cameras, time.GetUtcNow());
        foreach (var c in cameras) _writers[c.Id] = frames.WriterFor(c);
        if (cameras.Count == 0)
        {
            // Nothing to visit: the hand-off may complete when the streams end (a file run). Cameras that join later,
            // while the streams still run, take it back.
            _producerStopped = true;
            frames.ProducerStopped();
        }
    }

    /// <summary>A consistent copy of the rotation, for health and tests.</summary>
    public IReadOnlyList<PatrolCameraStatus> Status()
    {
        lock (_plan)
            return _plan.Entries.Select(e => new PatrolCameraStatus(e.Camera.Id, e.Visiting, e.LastVisit, e.DueAt, e.LastGap, e.WorstGap, e.ConsecutiveFailures, e.Reason)).ToList();
    }

    public TimeSpan WorstGap { get { lock (_plan) return _plan.WorstGap; } }

    /// <summary>Whether the admin API overrides camera <paramref name="cameraId"/>'s configured <c>enabled</c> here (null: it does not).</summary>
    public bool? Override(string cameraId)
    {
        lock (_plan) return _overrides.TryGetValue(cameraId, out var on) ? on : null;
    }

    /// <summary>
    /// A patrolled camera's health changed: its first visit, a failure after success, a success after failures, or it
    /// left the rotation (camera id, health, reason when not patrolled, when). Only changes, so 1000 cameras visited every
    /// minute stay quiet. Raised on a visit's task or an admin call: handlers must be quick and must not throw.
    /// </summary>
    public event Action<string, PatrolHealth, string?, DateTimeOffset>? HealthChanged;

    private readonly Dictionary<string, PatrolHealth> _health = new(StringComparer.Ordinal);

    private void Report(string cameraId, PatrolHealth health, string? reason, DateTimeOffset at)
    {
        lock (_health)
        {
            if (_health.TryGetValue(cameraId, out var was) && was == health) return;
            _health[cameraId] = health;
        }
        HealthChanged?.Invoke(cameraId, health, reason, at);
    }

    /// <summary>
    /// Takes a patrolled camera out of the rotation (its running visit, if any, is cancelled and awaited) or puts it
    /// back, due at once; in memory only, until the next reload or restart. <paramref name="configured"/> is the
    /// camera as its file defines it. Returns false when nothing changed.
    /// </summary>
    /// <exception cref="InvalidOperationException">The service is stopping, or the frame hand-off has ended.</exception>
    public async Task<bool> SetEnabledAsync(Camera configured, bool enabled)
    {
        Visit? visit;
        lock (_plan)
        {
            ThrowIfFinished();
            var entry = _plan.Find(configured.Id);
            if ((entry is not null) == enabled) return false;
            if (enabled)
            {
                AddLocked(configured with { Enabled = true });
                visit = null;
            }
            else
            {
                visit = RemoveLocked(entry!);
            }
            if (enabled == configured.Enabled) _overrides.Remove(configured.Id);
            else _overrides[configured.Id] = enabled;
        }
        if (visit is not null) await visit.StopAsync();
        if (!enabled) Report(configured.Id, PatrolHealth.Disabled, "disabled with the admin API (until the next reload or restart)", _time.GetUtcNow());
        _logger.LogInformation("Patrolled camera {Camera} {Action} through the admin API (until the next reload or restart)", configured.Id,
            enabled ? "enabled" : "disabled");
        return true;
    }

    /// <summary>
    /// Takes cameras out of the rotation for a reload (removed, replaced, or moving to a stream of their own) and waits
    /// for their running visits to end, so no frame of the old settings comes after. Their admin overrides are dropped.
    /// </summary>
    public async Task RemoveAsync(IReadOnlyCollection<string> cameraIds)
    {
        var visits = new List<Visit>();
        var left = new List<string>();
        lock (_plan)
        {
            foreach (var id in cameraIds)
            {
                _overrides.Remove(id);
                if (_plan.Find(id) is not { } entry) continue;
                if (RemoveLocked(entry) is { } visit) visits.Add(visit);
                left.Add(id);
            }
        }
        await Task.WhenAll(visits.Select(v => v.StopAsync()));
        var now = _time.GetUtcNow();
        foreach (var id in left) Report(id, PatrolHealth.Stopped, "taken out of the patrol by a configuration reload", now);
    }

    /// <summary>Cameras join the rotation after a reload, due at once.</summary>
    /// <exception cref="InvalidOperationException">The service is stopping, or the frame hand-off has ended.</exception>
    public void Add(IReadOnlyCollection<Camera> cameras)
    {
        lock (_plan)
        {
            ThrowIfFinished();
            foreach (var c in cameras) AddLocked(c);
        }
    }

    /// <summary>Throws when cameras can no longer join: the service is stopping, or the frame hand-off has ended.</summary>
    public void ThrowIfCannotAdd()
    {
        lock (_plan) ThrowIfFinished();
    }

    private void ThrowIfFinished()
    {
        if (_finished || (_producerStopped && _frames.HandOffComplete))
            throw new InvalidOperationException("the patrol has stopped (the service is stopping, or every stream ended and detection has finished)");
    }

    /// <summary>Under _plan.</summary>
    private void AddLocked(Camera camera)
    {
        if (_producerStopped)
        {
            if (!_frames.TryResumeProducer())
                throw new InvalidOperationException("the patrol has stopped (every stream ended and detection has finished)");
            _producerStopped = false;
        }
        _writers[camera.Id] = _frames.WriterFor(camera);
        _plan.Add(camera, _time.GetUtcNow());
        lock (_health) _health.Remove(camera.Id);
        _wake.Release();
    }

    /// <summary>Under _plan. The entry's running visit, if any, for the caller to stop once out of the lock.</summary>
    private Visit? RemoveLocked(PatrolEntry entry)
    {
        _plan.Remove(entry);
        _writers.Remove(entry.Camera.Id); // a running visit holds its own
        return _visits.GetValueOrDefault(entry);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var free = _options.PatrolConcurrency;
        lock (_plan)
        {
            if (_plan.Entries.Count > 0)
                _logger.LogInformation("Patrol of {Count} camera(s), {Concurrency} visit(s) at a time", _plan.Entries.Count, _options.PatrolConcurrency);
        }
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
                        var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                        var visit = new Visit(cancel);
                        _visits[entry] = visit;
                        visit.Task = VisitAsync(entry, _writers[entry.Camera.Id], () =>
                        {
                            lock (_plan) _visits.Remove(entry);
                            cancel.Dispose();
                            Interlocked.Increment(ref free);
                        }, cancel.Token);
                    }
                    next = _plan.NextDue;
                    Overdue.Set(next is { } n && n < now ? (now - n).TotalSeconds : 0);
                    WorstGapSeconds.Set(_plan.WorstGap.TotalSeconds);
                }

                // Sleep until a visit ends or the rotation changes, or the next visit falls due, whichever is first.
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var woken = _wake.WaitAsync(wake.Token);
                var delay = next is { } due && Volatile.Read(ref free) > 0 ? Max(due - now, TimeSpan.Zero) : Timeout.InfiniteTimeSpan;
                var timer = Task.Delay(delay, _time, wake.Token);
                await Task.WhenAny(woken, timer);
                // Cancels the loser; a cancelled wait took no count from the semaphore.
                wake.Cancel();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        // Visits end on cancellation and never throw: wait for them so no ffmpeg outlives the service.
        Task[] running;
        bool stopProducer;
        lock (_plan)
        {
            _finished = true;
            running = _visits.Values.Select(v => v.Task).ToArray();
            stopProducer = !_producerStopped;
            _producerStopped = true;
        }
        await Task.WhenAll(running);
        if (stopProducer) _frames.ProducerStopped();
    }

    private async Task VisitAsync(PatrolEntry entry, ChannelWriter<Frame> writer, Action release, CancellationToken ct)
    {
        await Task.Yield();
        var camera = entry.Camera;
        var started = _time.GetTimestamp();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_options.SnapshotTimeout);
            Frame frame;
            try
            {
                frame = await _visitor.VisitAsync(camera, timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new StreamException(camera.Id, Secrets.RedactUrl(camera.Url), StreamFailureKind.Timeout,
                    $"no frame within {_options.SnapshotTimeout.TotalSeconds:F0} s");
            }
            var visited = _time.GetUtcNow();
            lock (_plan) _plan.Visited(entry, visited);
            Visits.WithLabels(camera.GroupId).Inc();
            Report(camera.Id, PatrolHealth.Patrolled, null, visited);
            try
            {
                await writer.WriteAsync(frame, ct);
            }
            catch
            {
                frame.Dispose(); // not handed off: its buffer goes back to the pool
                throw;
            }
        }
        catch (StreamException ex)
        {
            var slow = ex.Kind is StreamFailureKind.Unauthorized or StreamFailureKind.UnknownHost;
            var failed = _time.GetUtcNow();
            lock (_plan) _plan.Failed(entry, failed, ex.Reason, slow);
            Failures.WithLabels(camera.GroupId, ex.Kind.ToString()).Inc();
            Report(camera.Id, PatrolHealth.Offline, ex.Reason, failed);
            _logger.LogWarning("Patrol visit of camera {Camera} failed: {Reason}", camera.Id, ex.Reason);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception ex)
        {
            var failed = _time.GetUtcNow();
            lock (_plan) _plan.Failed(entry, failed, Secrets.Scrub(ex.Message, camera.Url));
            Failures.WithLabels(camera.GroupId, "error").Inc();
            Report(camera.Id, PatrolHealth.Offline, Secrets.Scrub(ex.Message, camera.Url), failed);
            _logger.LogWarning("Patrol visit of camera {Camera} failed: {Reason}", camera.Id, Secrets.Scrub(ex.Message, camera.Url));
        }
        finally
        {
            VisitSeconds.Observe(_time.GetElapsedTime(started).TotalSeconds);
            release();
            _wake.Release();
        }
    }

    private sealed class Visit(CancellationTokenSource cancel)
    {
        public CancellationTokenSource Cancel { get; } = cancel;
        public Task Task { get; set; } = Task.CompletedTask;

        /// <summary>Cancels the visit (outside the rotation's lock: cancelling may kill its ffmpeg inline) and waits for its end.</summary>
        public async Task StopAsync()
        {
            try { await Cancel.CancelAsync(); }
            catch (ObjectDisposedException) { /* it had ended and been cleaned up */ }
            await Task;
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
