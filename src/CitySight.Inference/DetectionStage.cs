using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using System.Threading.Tasks.Sources;
using CitySight.Domain;
using CitySight.Inference.StaticObjects;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CitySight.Inference;

/// <summary>
/// The detect stage: takes frames from every camera's mailbox, hands each to every running model that can raise a case
/// type its camera asks for (each model batches frames across cameras), joins the models' detections per frame and
/// passes the frames on in the order they were taken, so each camera's frames stay in time order for the rules.
/// A camera that asks for garbage, billboards or street stalls also gets the model-free static-object pass
/// (<see cref="CameraStaticPass"/>): run on each frame after all its models have answered, with their detections as
/// masks, its objects joined to them.
/// </summary>
public sealed class DetectionStage
{
    private readonly IReadOnlyList<BatchingDetector> _detectors;
    private readonly Func<string, Camera?> _cameraOf;
    private readonly ILogger _logger;
    // Per camera id: the camera as last looked up and its models. A reload replaces a camera's definition (a new
    // instance), so a route made for an older one is made again: frames follow the camera's case types as they are now.
    private readonly ConcurrentDictionary<string, CameraRoute> _routes = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<PendingFrame> _pool = new();
    // Per camera id: its static-object pass. Touched only by the pass-on loop.
    private readonly Dictionary<string, CameraStaticPass> _staticPasses = new(StringComparer.Ordinal);
    private readonly StaticObjectOptions _staticOptions;
    private int _framesSinceSweep;

    /// <param name="cameraOf">
    /// The camera a frame came from as defined now, for its case types; null (unknown camera) = every model. Asked once
    /// per frame, so it must be cheap; a reload that redefines a camera returns its new definition from then on.
    /// </param>
    /// <param name="staticObjects">Settings of the static-object pass; null: its defaults.</param>
    public DetectionStage(IReadOnlyList<BatchingDetector> detectors, Func<string, Camera?> cameraOf, ILogger? logger = null,
        StaticObjectOptions? staticObjects = null)
    {
        if (detectors.Count == 0) throw new ArgumentException("at least one detector is needed", nameof(detectors));
        _detectors = detectors;
        _cameraOf = cameraOf;
        _logger = logger ?? NullLogger.Instance;
        _staticOptions = staticObjects ?? new StaticObjectOptions();
    }

    public IReadOnlyList<BatchingDetector> Detectors => _detectors;

    /// <summary>
    /// The models a camera's frames go to: those mapping a class to a case type the camera asks for (all when it names
    /// none). A camera asking for a type found without a trained model (garbage, billboard, street_stall) gets every
    /// running model, whatever they raise: their detections are the masks that keep vehicles, persons and everything
    /// else a model knows from ever becoming a static object (a parked car is a parking case, never garbage), and a
    /// stall is a person (COCO) beside vendor items. The tracking stage keeps only what the camera's types need, so the
    /// models' own detections go no further on such a camera than its types allow.
    /// </summary>
    public static BatchingDetector[] Route(Camera? camera, IReadOnlyList<BatchingDetector> detectors) =>
        camera is null || camera.Detectors.Count == 0 || ModelFreeTypes.AnyAskedBy(camera)
            ? detectors.ToArray()
            : detectors.Where(d => d.Spec.CaseTypes.Keys.Any(camera.Detectors.Contains)).ToArray();

    /// <summary>
    /// Runs until <paramref name="frames"/> completes (then every frame taken is still detected and passed on) or
    /// <paramref name="ct"/> is cancelled. Completes the detectors and <paramref name="output"/> when done.
    /// </summary>
    public async Task RunAsync(FrameMailboxes frames, ChannelWriter<DetectedFrame> output, CancellationToken ct)
    {
        // Frames taken but not yet passed on, in the order taken: at most what the detectors' queues and sessions hold.
        var inFlight = Channel.CreateBounded<PendingFrame>(new BoundedChannelOptions(
            _detectors.Sum(d => d.Instances * d.BatchCapacity * 2) + 1)
        {
            FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true,
        });
        var passOn = PassOnAsync(inFlight.Reader, output, ct);
        try
        {
            await foreach (var frame in frames.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var targets = TargetsFor(frame.CameraId);
                if (targets.Length == 0)
                {
                    frame.Dispose();
                    continue;
                }
                var pending = Rent(frame, targets.Length);
                try
                {
                    await inFlight.Writer.WriteAsync(pending, ct).ConfigureAwait(false);
                }
                catch
                {
                    frame.Dispose();
                    throw;
                }
                // From here the pass-on loop owns the frame: it waits for every target's answer.
                for (var i = 0; i < targets.Length; i++)
                {
                    try
                    {
                        await targets[i].SubmitAsync(frame, pending, ct).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        // Not queued (shutting down): answer for the targets not reached so the frame is released.
                        for (var j = i; j < targets.Length; j++) pending.OnFailed(frame, targets[j].Spec, ex);
                        throw;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        finally
        {
            inFlight.Writer.TryComplete();
            foreach (var d in _detectors) d.Complete();
            await passOn.ConfigureAwait(false);
            output.TryComplete();
            frames.DisposeWaiting();
        }
    }

    /// <summary>The models for a camera's frames; routed again only when its definition has changed since the last frame.</summary>
    private BatchingDetector[] TargetsFor(string cameraId)
    {
        var camera = _cameraOf(cameraId);
        if (_routes.TryGetValue(cameraId, out var route) && ReferenceEquals(route.Camera, camera)) return route.Targets;
        var targets = Route(camera, _detectors);
        if (targets.Length == 0)
            _logger.LogWarning("Camera {Camera} asks for {CaseTypes} but no running model raises any of them; its frames are not detected",
                cameraId, string.Join(", ", camera!.Detectors));
        _routes[cameraId] = new CameraRoute(camera, targets);
        return targets;
    }

    private sealed record CameraRoute(Camera? Camera, BatchingDetector[] Targets);

    private async Task PassOnAsync(ChannelReader<PendingFrame> inFlight, ChannelWriter<DetectedFrame> output, CancellationToken ct)
    {
        await foreach (var pending in inFlight.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            // Every submitted frame is answered (the detectors drain their queues), so this wait always ends.
            await pending.Answered.ConfigureAwait(false);
            var (frame, detections, latency, failure) = pending.Result();
            Return(pending);
            if (failure is not null && detections is null)
            {
                // A frame caught by the shutdown is not a failure worth an error line.
                if (!(ct.IsCancellationRequested && failure is OperationCanceledException or { InnerException: OperationCanceledException }))
                    _logger.LogError(failure, "Detection failed on a frame from camera {Camera}; frame skipped", frame.CameraId);
                frame.Dispose();
                continue;
            }
            if (failure is not null)
                _logger.LogError(failure, "One model failed on a frame from camera {Camera}; passing on the other models' detections", frame.CameraId);
            else
                detections = WithStaticObjects(frame, detections!);
            try
            {
                await output.WriteAsync(new DetectedFrame(frame, detections!, latency), ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
            {
                frame.Dispose();
            }
        }
    }

    /// <summary>
    /// The frame's model detections with its camera's static objects appended (when the camera asks for them). Not run
    /// on a frame one of whose models failed: its masks would be incomplete (a car could become garbage).
    /// </summary>
    private IReadOnlyList<Detection> WithStaticObjects(Frame frame, IReadOnlyList<Detection> detections)
    {
        if (++_framesSinceSweep >= 4096) SweepStaticPasses();
        var camera = _cameraOf(frame.CameraId);
        _staticPasses.TryGetValue(frame.CameraId, out var pass);
        if (!ModelFreeTypes.AnyAskedBy(camera))
        {
            if (pass is not null) _staticPasses.Remove(frame.CameraId);
            return detections;
        }
        if (pass is null || !ReferenceEquals(pass.Camera, camera))
            _staticPasses[frame.CameraId] = pass = new CameraStaticPass(camera!, _staticOptions);
        return pass.Run(frame, detections);
    }

    /// <summary>Drops the passes of cameras removed (or no longer asking for static objects) since: their frames stopped.</summary>
    private void SweepStaticPasses()
    {
        _framesSinceSweep = 0;
        foreach (var (id, pass) in _staticPasses)
        {
            var camera = _cameraOf(id);
            if (!ReferenceEquals(camera, pass.Camera)) _staticPasses.Remove(id);
        }
    }

    private PendingFrame Rent(Frame frame, int answers)
    {
        if (!_pool.TryDequeue(out var p)) p = new PendingFrame();
        p.Start(frame, answers);
        return p;
    }

    private void Return(PendingFrame p)
    {
        p.Reset();
        _pool.Enqueue(p);
    }

    /// <summary>One frame waiting for its models' answers; pooled, and awaited without allocating.</summary>
    private sealed class PendingFrame : IDetectionSink, IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
        private readonly Lock _gate = new();
        private Frame? _frame;
        private int _remaining;
        private long _started;
        private IReadOnlyList<Detection>? _detections;
        private int _answered;
        private Exception? _failure;
        private long _finished;

        public void Start(Frame frame, int answers)
        {
            _frame = frame;
            _remaining = answers;
            _started = Stopwatch.GetTimestamp();
        }

        public ValueTask Answered => new(this, _core.Version);

        public (Frame Frame, IReadOnlyList<Detection>? Detections, TimeSpan Latency, Exception? Failure) Result() =>
            (_frame!, _answered > 0 ? _detections ?? [] : null, Stopwatch.GetElapsedTime(_started, _finished), _failure);

        public void Reset()
        {
            _core.Reset();
            _frame = null;
            _detections = null;
            _failure = null;
            _answered = 0;
        }

        public void OnDetected(Frame frame, ModelSpec model, IReadOnlyList<Detection> detections)
        {
            lock (_gate)
            {
                _answered++;
                // One model (the usual case): its list is passed on as it is; several: joined.
                _detections = _detections is null || _detections.Count == 0 ? detections
                    : detections.Count == 0 ? _detections
                    : [.. _detections, .. detections];
            }
            Answer();
        }

        public void OnFailed(Frame frame, ModelSpec model, Exception error)
        {
            lock (_gate) _failure ??= new InvalidOperationException($"model '{model.Name}' failed: {error.Message}", error);
            Answer();
        }

        private void Answer()
        {
            if (Interlocked.Decrement(ref _remaining) != 0) return;
            _finished = Stopwatch.GetTimestamp();
            _core.SetResult(true);
        }

        public void GetResult(short token) => _core.GetResult(token);
        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);
        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
