using System.Threading.Channels;
using CitySight.Domain;
using Microsoft.Extensions.Logging;

namespace CitySight.Ingest;

/// <summary>Retry and decoding settings of a <see cref="CameraSource"/>.</summary>
public sealed record CameraSourceOptions
{
    /// <summary>First wait after a failure; doubles per consecutive failure up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// First wait after a failure that retrying soon cannot fix: wrong credentials (401/403) or a host name that does
    /// not resolve. Doubles per consecutive such failure up to <see cref="SlowMaxBackoff"/>. Jitter only lengthens
    /// these waits: such a camera is never retried sooner than this (a hot loop of wrong passwords can lock accounts).
    /// </summary>
    public TimeSpan SlowInitialBackoff { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan SlowMaxBackoff { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Each wait is scaled by a random factor in [1 − j, 1 + j] (slow waits: [1, 1 + 2j]) so that cameras dropped together do not retry in lockstep.</summary>
    public double BackoffJitter { get; init; } = 0.2;

    public DecodeMode Decode { get; init; } = DecodeMode.Auto;
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <inheritdoc cref="VideoReadOptions.StallTimeout"/>
    public TimeSpan? StallTimeout { get; init; }
    public int DecoderThreads { get; init; }

    /// <inheritdoc cref="VideoReadOptions.DecoderDevice"/>
    public string? DecoderDevice { get; init; }

    /// <inheritdoc cref="VideoReadOptions.MaxFrameWidth"/>
    public int MaxFrameWidth { get; init; }

    /// <inheritdoc cref="VideoReadOptions.MaxFrameWidth"/>
    public int MaxFrameHeight { get; init; }

    /// <inheritdoc cref="VideoReadOptions.MaxFramePixels"/>
    public long MaxFramePixels { get; init; }

    /// <summary>The group label of this camera's metrics; null: the camera's own GroupId.</summary>
    public string? GroupId { get; init; }

    /// <inheritdoc cref="VideoReadOptions.RtspsCaFile"/>
    public string? RtspsCaFile { get; init; }

    public string FfmpegPath { get; init; } = "ffmpeg";
}

/// <summary>
/// Keeps one camera's frames flowing into a channel: runs <see cref="VideoReader"/>, and when it fails, stalls or a live
/// stream ends, retries with exponential backoff and jitter (reset once frames flow again; slow for wrong credentials
/// and unknown hosts). Independent of every other camera: its ffmpeg is its own and dies with its cancellation.
/// A disabled camera never connects.
/// </summary>
public sealed class CameraSource
{
    private static readonly TimeSpan SpacingSlack = TimeSpan.FromMilliseconds(1);

    private readonly CameraSourceOptions _options;
    private readonly ILogger _logger;
    private readonly string _redactedUrl;
    private readonly bool _live;
    private readonly string _group;
    private readonly object _gate = new();
    // Metric children looked up once: a per-frame WithLabels would allocate.
    private readonly Prometheus.Counter.Child _framesMetric;
    private readonly Prometheus.Counter.Child _reconnectsMetric;
    private readonly Prometheus.Gauge.Child _upMetric;
    private readonly Prometheus.Gauge.Child[] _stateMetric;
    // Status fields, guarded by _gate; a snapshot record is built only when asked for (not per frame).
    private CameraState _state;
    private string? _reason;
    private DateTimeOffset _since = DateTimeOffset.UtcNow;
    private DateTimeOffset? _nextAttempt;
    private StreamFailureKind? _lastFailure;
    private long _framesDecoded;
    private FrameRate _rate;
    private long _reconnects;
    private bool _keyframesOnly;
    private int _running;
    private long _nextSequence;
    private DateTimeOffset? _lastCapture;
    private DateTimeOffset? _lastArrival;
    private DateTimeOffset _runStarted = DateTimeOffset.UtcNow;
    private TimeSpan? _gop;
    private StreamInfo? _lastStream;
    private bool _switching;
    private int _plannedSwitches;

    // Into keyframes-only and, if the GOP then turns out wider, back once: an irregular GOP must not make it flap.
    private const int MaxPlannedSwitches = 2;

    public CameraSource(Camera camera, ILogger logger, CameraSourceOptions? options = null)
    {
        Camera = camera ?? throw new ArgumentNullException(nameof(camera));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _options = options ?? new CameraSourceOptions();
        _redactedUrl = Secrets.RedactUrl(camera.Url);
        _live = VideoReader.IsNetworkUrl(camera.Url);
        _group = _options.GroupId ?? camera.GroupId ?? "";
        _framesMetric = IngestMetrics.FramesDecoded.WithLabels(camera.Id, _group);
        _reconnectsMetric = IngestMetrics.Reconnects.WithLabels(camera.Id, _group);
        _upMetric = IngestMetrics.CameraUp.WithLabels(camera.Id, _group);
        _stateMetric = IngestMetrics.StateLabels.Select(state => IngestMetrics.CameraStateGauge.WithLabels(camera.Id, _group, state)).ToArray();
        _state = camera.Enabled ? CameraState.Stopped : CameraState.Disabled;
        _upMetric.Set(0);
        PublishState(_state);
    }

    public Camera Camera { get; }

    public CameraStatus Status
    {
        get { lock (_gate) return Snapshot(); }
    }

    /// <summary>Raised (on the source's own task) when State or Reason change — not per frame.</summary>
    public event Action<CameraSource, CameraStatus>? StatusChanged;

    /// <summary>When the last frame arrived, else when this run started (for the last-frame-age gauge).</summary>
    internal DateTimeOffset? LastFrameOrStart
    {
        get { lock (_gate) return _lastArrival ?? _runStarted; }
    }

    /// <summary>
    /// Runs until <paramref name="ct"/> is cancelled (then throws OperationCanceledException), a non-looping file
    /// ends, or <paramref name="output"/> is completed. Never throws anything else. Frames are written with
    /// WriteAsync; with a dropping channel, give it an itemDropped callback that disposes the frame.
    /// A disabled camera (Enabled = false) returns at once, in state <see cref="CameraState.Disabled"/>, without connecting.
    /// </summary>
    public async Task RunAsync(ChannelWriter<Frame> output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!Camera.Enabled)
        {
            SetState(CameraState.Disabled, "disabled in the configuration");
            return;
        }
        if (Interlocked.Exchange(ref _running, 1) != 0)
            throw new InvalidOperationException($"camera {Camera.Id} is already running");
        _switching = false;
        _plannedSwitches = 0;
        lock (_gate) _runStarted = DateTimeOffset.UtcNow;
        IngestMetrics.Track(this, _group);
        try
        {
            var failures = 0;     // consecutive failures retried at the normal pace
            var slowFailures = 0; // consecutive failures retried slowly (credentials, unknown host)
            var attempt = 0;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                if (attempt++ > 0)
                {
                    lock (_gate) _reconnects++;
                    _reconnectsMetric.Inc();
                }

                var pass = await RunPassAsync(output, ct).ConfigureAwait(false);
                switch (pass.Outcome)
                {
                    case Outcome.Finished:
                        SetState(CameraState.Stopped, pass.Reason);
                        return;
                    case Outcome.SwitchDecodeMode:
                        attempt = 0; // a planned reconnect, not a failure
                        _switching = true;
                        continue;
                }

                if (pass.FramesFlowed) failures = slowFailures = 0;
                var delay = IsSlowToFix(pass.Kind) ? SlowBackoff(++slowFailures) : Backoff(++failures);
                var now = DateTimeOffset.UtcNow;
                SetState(pass.Kind == StreamFailureKind.Stalled ? CameraState.Stalled : CameraState.Offline, pass.Reason,
                    now + delay, pass.Kind, now);
                await Task.Delay(delay, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            SetState(CameraState.Stopped, "cancelled");
            throw;
        }
        finally
        {
            _upMetric.Set(0);
            IngestMetrics.Untrack(this);
            Interlocked.Exchange(ref _running, 0);
        }
    }

    /// <summary>Failures that retrying soon cannot fix: a wrong password or a host name that does not resolve.</summary>
    private static bool IsSlowToFix(StreamFailureKind? kind) =>
        kind is StreamFailureKind.Unauthorized or StreamFailureKind.UnknownHost;

    private enum Outcome { Failed, Finished, SwitchDecodeMode }

    private readonly record struct PassResult(Outcome Outcome, string Reason, bool FramesFlowed, StreamFailureKind? Kind = null);

    private async Task<PassResult> RunPassAsync(ChannelWriter<Frame> output, CancellationToken ct)
    {
        // A planned decode-mode switch stays Streaming: the camera is fine, only ffmpeg is restarted.
        if (!_switching)
        {
            string? previous;
            StreamFailureKind? failure;
            lock (_gate) (previous, failure) = _state is CameraState.Offline or CameraState.Stalled ? (_reason, _lastFailure) : (null, null);
            SetState(CameraState.Connecting, previous, failure: failure); // keeps the last failure's reason while retrying
        }
        using var pass = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var switchRequested = 0;
        var keyframesOnly = false;

        TimeSpan? knownGop;
        lock (_gate) knownGop = _gop;
        var readOptions = VideoReadOptions.For(Camera) with
        {
            Decode = _options.Decode,
            KeyframeInterval = knownGop,
            OpenTimeout = _options.OpenTimeout,
            StallTimeout = _options.StallTimeout,
            DecoderThreads = _options.DecoderThreads,
            DecoderDevice = _options.DecoderDevice,
            MaxFrameWidth = _options.MaxFrameWidth,
            MaxFrameHeight = _options.MaxFrameHeight,
            MaxFramePixels = _options.MaxFramePixels,
            GroupId = _group,
            FfmpegPath = _options.FfmpegPath,
            RtspsCaFile = _options.RtspsCaFile,
            FirstSequence = _nextSequence,
            // The stream seen last time: its codec (QSV) and GOP; a file is not probed again.
            KnownStream = _lastStream,
        };
        _switching = false;
        var sampling = readOptions;
        // OnOpened runs on the reading thread at the first frame, OnKeyframeInterval on ffmpeg's stderr thread, and the
        // GOP may be measured first (a fast file): the switch is weighed once both are known.
        var passGate = new object();
        var opened = false;
        TimeSpan? measuredGop = null;

        void ConsiderSwitch(TimeSpan gop)
        {
            // Auto mode learns a live stream's GOP while streaming; when it says the other decode mode fits,
            // reconnect once in that mode (keyframes-only decoding costs a fraction of full decoding).
            if (_options.Decode == DecodeMode.Auto && sampling.AllowsKeyframesOnly(gop) != keyframesOnly &&
                Volatile.Read(ref _plannedSwitches) < MaxPlannedSwitches &&
                Interlocked.Exchange(ref switchRequested, 1) == 0)
            {
                Interlocked.Increment(ref _plannedSwitches);
                _logger.LogInformation("Camera {CameraId} ({Url}): GOP {Gop:0.###} s, switching to {Mode} decoding",
                    Camera.Id, _redactedUrl, gop.TotalSeconds, keyframesOnly ? "all-frames" : "keyframe-only");
                pass.Cancel();
            }
        }

        readOptions = readOptions with
        {
            OnOpened = info =>
            {
                _lastStream = info;
                lock (_gate)
                {
                    _keyframesOnly = info.KeyframesOnly;
                    _gop ??= info.KeyframeInterval;
                }
                TimeSpan? gop;
                lock (passGate)
                {
                    keyframesOnly = info.KeyframesOnly;
                    opened = true;
                    gop = measuredGop;
                }
                if (gop is { } g) ConsiderSwitch(g);
            },
            OnKeyframeInterval = gop =>
            {
                lock (_gate) _gop = gop;
                bool ready;
                lock (passGate)
                {
                    measuredGop = gop;
                    ready = opened;
                }
                if (ready) ConsiderSwitch(gop);
            },
        };

        var minSpacing = Camera.SampleInterval > TimeSpan.Zero ? Camera.SampleInterval - SpacingSlack : TimeSpan.Zero;
        var flowed = false;
        try
        {
            await foreach (var frame in VideoReader.ReadAsync(Camera.Id, Camera.Url, readOptions, pass.Token).ConfigureAwait(false))
            {
                _nextSequence = frame.Sequence + 1;
                // Across passes too, capture times only move forward by at least the interval
                // (a file restarted after a failure resumes where it was instead of repeating itself).
                lock (_gate)
                {
                    if (_lastCapture is { } last && frame.CaptureTime - last < minSpacing)
                    {
                        frame.Dispose();
                        continue;
                    }
                    _lastCapture = frame.CaptureTime;
                    _lastArrival = DateTimeOffset.UtcNow;
                    _framesDecoded++;
                    _rate.Add(_lastArrival.Value);
                }
                if (!flowed)
                {
                    flowed = true;
                    SetState(CameraState.Streaming, null);
                }
                _framesMetric.Inc();

                try
                {
                    await output.WriteAsync(frame, ct).ConfigureAwait(false);
                }
                catch (ChannelClosedException)
                {
                    frame.Dispose();
                    return new PassResult(Outcome.Finished, "output closed", flowed);
                }
                catch
                {
                    frame.Dispose(); // not handed on: the buffer goes back to the pool here
                    throw;
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested && Volatile.Read(ref switchRequested) != 0)
        {
            return new PassResult(Outcome.SwitchDecodeMode, "switching decode mode", flowed);
        }
        catch (StreamException e)
        {
            return new PassResult(Outcome.Failed, $"{StreamException.Describe(e.Kind)}: {e.Reason}", flowed, e.Kind);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Not expected; the message is scrubbed because third-party messages may quote the URL.
            _logger.LogError("Camera {CameraId} ({Url}): unexpected {Error}: {Message}",
                Camera.Id, _redactedUrl, e.GetType().Name, Secrets.Scrub(e.Message, Camera.Url));
            return new PassResult(Outcome.Failed, Secrets.Scrub(e.Message, Camera.Url), flowed);
        }

        if (Volatile.Read(ref switchRequested) != 0 && !ct.IsCancellationRequested)
            return new PassResult(Outcome.SwitchDecodeMode, "switching decode mode", flowed);
        if (!_live && !Camera.Loop)
            return new PassResult(Outcome.Finished, "end of file", flowed);
        return new PassResult(Outcome.Failed, _live ? "stream ended" : "file ended unexpectedly", flowed, StreamFailureKind.ConnectionLost);
    }

    private CameraStatus Snapshot() => new()
    {
        CameraId = Camera.Id,
        State = _state,
        Reason = _reason,
        Since = _since,
        NextAttemptAt = _nextAttempt,
        LastFailure = _lastFailure,
        LastFrameCaptureTime = _lastCapture,
        LastFrameAt = _lastArrival,
        FramesDecoded = _framesDecoded,
        FramesPerSecond = _rate.PerSecond(DateTimeOffset.UtcNow),
        Reconnects = _reconnects,
        KeyframesOnly = _keyframesOnly,
        KeyframeInterval = _gop,
    };

    internal TimeSpan Backoff(int failures) =>
        Domain.Backoff.Exponential(_options.InitialBackoff, _options.MaxBackoff, failures - 1, _options.BackoffJitter);

    // One-sided: never sooner than configured.
    internal TimeSpan SlowBackoff(int failures) =>
        Domain.Backoff.Exponential(_options.SlowInitialBackoff, _options.SlowMaxBackoff, failures - 1, _options.BackoffJitter, neverSooner: true);

    /// <param name="nextAttempt">Offline/Stalled: when the retry is due.</param>
    /// <param name="failure">The failure's kind (kept while connecting again, cleared when streaming).</param>
    /// <param name="at">When the state was entered (default: now); given with <paramref name="nextAttempt"/> so that the
    /// retry is exactly one backoff after <see cref="CameraStatus.Since"/>.</param>
    private void SetState(CameraState state, string? reason, DateTimeOffset? nextAttempt = null, StreamFailureKind? failure = null,
        DateTimeOffset? at = null)
    {
        CameraStatus snapshot;
        lock (_gate)
        {
            if (_state == state && _reason == reason && _nextAttempt == nextAttempt && _lastFailure == failure) return;
            (_state, _reason, _since, _nextAttempt, _lastFailure) = (state, reason, at ?? DateTimeOffset.UtcNow, nextAttempt, failure);
            snapshot = Snapshot();
        }
        _upMetric.Set(state == CameraState.Streaming ? 1 : 0);
        PublishState(state);

        var level = state is CameraState.Offline or CameraState.Stalled ? LogLevel.Warning : LogLevel.Information;
        if (reason is null)
            _logger.Log(level, "Camera {CameraId} ({Url}) {State}", Camera.Id, _redactedUrl, state);
        else
            _logger.Log(level, "Camera {CameraId} ({Url}) {State}: {Reason}", Camera.Id, _redactedUrl, state, reason);

        try
        {
            StatusChanged?.Invoke(this, snapshot);
        }
        catch (Exception e)
        {
            _logger.LogError("Camera {CameraId}: a StatusChanged handler failed: {Error}", Camera.Id, e.Message);
        }
    }

    private void PublishState(CameraState state)
    {
        for (var i = 0; i < _stateMetric.Length; i++) _stateMetric[i].Set(i == (int)state ? 1 : 0);
    }
}
