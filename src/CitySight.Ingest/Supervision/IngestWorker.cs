using CitySight.Domain;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CitySight.Ingest;

/// <summary>
/// Holds one supervised stream per continuous camera, up to the machine's stream budget; each retries on its own, so one
/// broken camera never stops the others. Cameras in patrol groups, and continuous ones beyond the budget, are left to
/// the patrol (<see cref="Patrol.PatrolWorker"/>).
/// Streams can be added, removed, restarted, disabled and enabled while it runs (the admin API); until the first such
/// change it ends when every stream has ended on its own (files played to their end), after it only with the service.
/// </summary>
public sealed class IngestWorker : BackgroundService
{
    private readonly FrameProducers _frames;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger<IngestWorker> _logger;
    private readonly IReadOnlyList<Camera> _overBudget;
    private readonly CameraSourceOptions _sourceOptions;
    private readonly object _gate = new();
    private readonly List<Slot> _slots = [];
    private CancellationToken _stopping;
    private bool _started;
    private bool _finished;
    private bool _changedAtRunTime;
    private readonly bool _constructed;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="cameras">Every configured camera; those this worker streams are picked by <see cref="Split"/>.</param>
    /// <param name="frames">The hand-off to detection; this worker is one of its producers.</param>
    public IngestWorker(IEnumerable<Camera> cameras, IngestOptions options, FrameProducers frames, ILoggerFactory loggers)
    {
        _frames = frames;
        _loggers = loggers;
        _logger = loggers.CreateLogger<IngestWorker>();
        var (streamed, overBudget) = Split(cameras, options);
        _overBudget = overBudget;
        _sourceOptions = options.SourceOptions();
        foreach (var c in streamed) _slots.Add(new Slot(c, NewSource(c)));
        _constructed = true;
    }

    /// <summary>The streams now, in configuration order (a copy).</summary>
    public IReadOnlyList<CameraSource> Sources
    {
        get { lock (_gate) return _slots.Select(s => s.Source).ToList(); }
    }

    /// <summary>A stream's source put in place at run time (added, restarted or disabled), before it runs.</summary>
    public event Action<CameraSource>? SourceAdded;

    /// <summary>The stream of camera <paramref name="id"/>, and whether SetEnabledAsync overrides its configured <c>enabled</c>.</summary>
    public (CameraSource Source, bool? Override)? Find(string id)
    {
        lock (_gate)
            return _slots.Find(s => s.Configured.Id == id) is { } slot ? (slot.Source, slot.Override) : null;
    }

    /// <summary>
    /// Disables (closes its stream; it shows Disabled) or enables (connects again) one stream, in memory only.
    /// Null when no stream has that id.
    /// </summary>
    /// <exception cref="InvalidOperationException">The worker has finished (service stopping, or every file ended).</exception>
    public async Task<CameraSource?> SetEnabledAsync(string id, bool enabled)
    {
        Slot? slot;
        lock (_gate)
        {
            ThrowIfFinished();
            slot = _slots.Find(s => s.Configured.Id == id);
            if (slot is null) return null;
            if (slot.Source.Camera.Enabled == enabled) return slot.Source;
            MarkChanged();
        }
        await StopAsync(slot);
        lock (_gate)
        {
            slot.Override = enabled == slot.Configured.Enabled ? null : enabled;
            if (enabled)
                // The stream that ran before, if any: it carries on where it was (sequence, capture clock, counters).
                slot.Source = slot.Live ??= NewSource(slot.Configured with { Enabled = true });
            else
                slot.Source = NewSource(slot.Configured with { Enabled = false });
            Start(slot);
            _logger.LogInformation("Camera {Camera} {Action} through the admin API (until the next reload or restart)", id,
                enabled ? "enabled" : "disabled");
            return slot.Source;
        }
    }

    /// <summary>
    /// Applies a reloaded configuration's continuous cameras: <paramref name="removed"/> stop and go,
    /// <paramref name="replaced"/> (same id, new settings, or an admin override to drop) stop and start again with the
    /// given definition, <paramref name="added"/> start. <paramref name="beforeStart"/> runs once the old streams have
    /// stopped and before any new one starts (the rules stage takes the new definitions there).
    /// </summary>
    public async Task ApplyAsync(IReadOnlyList<Camera> added, IReadOnlyList<string> removed, IReadOnlyList<Camera> replaced, Func<Task> beforeStart)
    {
        List<Slot> stopping;
        lock (_gate)
        {
            ThrowIfFinished();
            MarkChanged();
            var ids = removed.Concat(replaced.Select(c => c.Id)).ToHashSet();
            stopping = _slots.Where(s => ids.Contains(s.Configured.Id)).ToList();
        }
        await Task.WhenAll(stopping.Select(StopAsync));
        await beforeStart();
        lock (_gate)
        {
            _slots.RemoveAll(s => removed.Contains(s.Configured.Id));
            foreach (var camera in replaced)
            {
                var i = _slots.FindIndex(s => s.Configured.Id == camera.Id);
                var slot = new Slot(camera, NewSource(camera));
                if (i >= 0) _slots[i] = slot; else _slots.Add(slot);
                Start(slot);
            }
            foreach (var camera in added)
            {
                var slot = new Slot(camera, NewSource(camera));
                _slots.Add(slot);
                Start(slot);
            }
        }
    }

    /// <summary>Continuous cameras that get a stream of their own, and those that do not fit the budget (patrolled instead).</summary>
    public static (IReadOnlyList<Camera> Streamed, IReadOnlyList<Camera> OverBudget) Split(IEnumerable<Camera> cameras, IngestOptions options)
    {
        // Disabled cameras keep their place in the list so their state is reported (Disabled), but use no budget.
        var continuous = cameras.Where(c => c.Mode == IngestMode.Continuous).ToList();
        var streamed = new List<Camera>();
        var over = new List<Camera>();
        var budget = options.MaxStreams;
        foreach (var c in continuous)
        {
            if (!c.Enabled || budget > 0) { streamed.Add(c); if (c.Enabled) budget--; }
            else over.Add(c);
        }
        return (streamed, over);
    }

    /// <summary>Every camera the patrol visits: enabled cameras of patrol groups plus continuous ones over the stream budget.</summary>
    public static IReadOnlyList<Camera> Patrolled(IEnumerable<Camera> cameras, IngestOptions options)
    {
        var all = cameras as IReadOnlyCollection<Camera> ?? cameras.ToList();
        return [.. all.Where(c => c.Mode == IngestMode.Patrol && c.Enabled), .. Split(all, options).OverBudget];
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_overBudget.Count > 0)
            _logger.LogWarning("{Count} continuous camera(s) exceed ingest.max_streams and are patrolled instead: {Cameras}",
                _overBudget.Count, string.Join(", ", _overBudget.Take(20).Select(c => c.Id)) + (_overBudget.Count > 20 ? ", …" : ""));
        lock (_gate)
        {
            _stopping = stoppingToken;
            _started = true;
            foreach (var slot in _slots) Start(slot);
        }
        try
        {
            while (true)
            {
                Task[] running;
                Task changed;
                lock (_gate)
                {
                    if (_changedAtRunTime) break;
                    running = _slots.Select(s => s.Task!).ToArray();
                    changed = _changed.Task;
                }
                await Task.WhenAny(Task.WhenAll(running), changed).WaitAsync(stoppingToken);
                lock (_gate)
                    if (!_changedAtRunTime && !changed.IsCompleted)
                    {
                        // Every stream ended on its own (files played to their end): the hand-off can complete.
                        _finished = true;
                        return;
                    }
            }
            // Changed at run time: streams come and go with the admin API, so this runs as long as the service.
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        finally
        {
            Task[] all;
            lock (_gate)
            {
                _finished = true;
                all = _slots.Select(s => s.Task).OfType<Task>().ToArray();
            }
            // Each stream's token is linked to stoppingToken; wait so no ffmpeg outlives the service.
            await Task.WhenAll(all);
            _frames.ProducerStopped();
        }
    }

    private CameraSource NewSource(Camera c)
    {
        var source = new CameraSource(c, _loggers.CreateLogger($"CitySight.Camera.{c.Id}"), _sourceOptions);
        if (_constructed) SourceAdded?.Invoke(source);
        return source;
    }

    private void ThrowIfFinished()
    {
        if (_finished) throw new InvalidOperationException("the cameras' streams have stopped (the service is stopping, or every file ended)");
    }

    /// <summary>
    /// Streams will come and go at run time (a cluster's node starts with none and takes cameras as it comes to own them):
    /// the worker then runs as long as the service, even with no stream, instead of finishing when its streams have ended.
    /// </summary>
    public void StayRunning()
    {
        lock (_gate) MarkChanged();
    }

    private void MarkChanged()
    {
        _changedAtRunTime = true;
        _changed.TrySetResult();
    }

    /// <summary>Under _gate. Before ExecuteAsync, only prepares: ExecuteAsync starts every slot.</summary>
    private void Start(Slot slot)
    {
        if (!_started) return;
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
        slot.Cts = cts;
        var source = slot.Source;
        var writer = _frames.WriterFor(source.Camera);
        slot.Task = Task.Run(async () =>
        {
            try { await source.RunAsync(writer, cts.Token); }
            catch (OperationCanceledException) when (cts.IsCancellationRequested) { }
        });
    }

    /// <summary>Cancels one stream and waits until it has stopped (its ffmpeg with it).</summary>
    private async Task StopAsync(Slot slot)
    {
        Task? task;
        CancellationTokenSource? cts;
        lock (_gate) (task, cts) = (slot.Task, slot.Cts);
        if (cts is null || task is null) return;
        await cts.CancelAsync();
        await task;
        cts.Dispose();
    }

    private sealed class Slot(Camera configured, CameraSource source)
    {
        /// <summary>As the configuration defines it.</summary>
        public Camera Configured { get; } = configured;
        /// <summary>The source reported now (a disabled stand-in while disabled).</summary>
        public CameraSource Source { get; set; } = source;
        /// <summary>The enabled source, kept while disabled so that enabling carries on with it.</summary>
        public CameraSource? Live { get; set; } = configured.Enabled ? source : null;
        public bool? Override { get; set; }
        public CancellationTokenSource? Cts { get; set; }
        public Task? Task { get; set; }
    }
}
