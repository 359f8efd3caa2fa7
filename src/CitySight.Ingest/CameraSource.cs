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

    /// <summary>Each wait is scaled by a random factor in [1 − j, 1 + j] so that cameras dropped together do not retry in lockstep.</summary>
    public double BackoffJitter { get; init; } = 0.2;

    public DecodeMode Decode { get; init; } = DecodeMode.Auto;
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan? StallTimeout { get; init; }
    public int DecoderThreads { get; init; }
    public string FfmpegPath { get; init; } = "ffmpeg";
}

/// <summary>
/// Keeps one camera's frames flowing into a channel: runs <see cref="VideoReader"/>, and when it fails or a live
/// stream ends, retries with exponential backoff and jitter (reset once frames flow again). Independent of every
/// other camera: its ffmpeg is its own and dies with its cancellation.
/// </summary>
public sealed class CameraSource
{
    private static readonly TimeSpan SpacingSlack = TimeSpan.FromMilliseconds(1);

    private readonly CameraSourceOptions _options;
    private readonly ILogger _logger;
    private readonly string _redactedUrl;
    private readonly bool _live;
    private readonly object _gate = new();
    // Status fields, guarded by _gate; a snapshot record is built only when asked for (not per frame).
    private CameraState _state = CameraState.Stopped;
    private string? _reason;
    private DateTimeOffset _since = DateTimeOffset.UtcNow;
    private long _framesDecoded;
    private long _reconnects;
    private bool _keyframesOnly;
    private int _running;
    private long _nextSequence;
    private DateTimeOffset? _lastCapture;
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
        IngestMetrics.CameraUp.WithLabels(camera.Id).Set(0);
    }

    public Camera Camera { get; }

    public CameraStatus Status
    {
        get { lock (_gate) return Snapshot(); }
    }

    /// <summary>Raised (on the source's own task) when State or Reason change — not per frame.</summary>
    public event Action<CameraSource, CameraStatus>? StatusChanged;

    /// <summary>
    /// Runs until <paramref name="ct"/> is cancelled (then throws OperationCanceledException), a non-looping file
    /// ends, or <paramref name="output"/> is completed. Never throws anything else. Frames are written with
    /// WriteAsync; with a dropping channel, give it an itemDropped callback that disposes the frame.
    /// </summary>
    public async Task RunAsync(ChannelWriter<Frame> output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (Interlocked.Exchange(ref _running, 1) != 0)
            throw new InvalidOperationException($"camera {Camera.Id} is already running");
        _switching = false;
        _plannedSwitches = 0;
        try
        {
            var failures = 0;
            var attempt = 0;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                if (attempt++ > 0)
                {
                    lock (_gate) _reconnects++;
                    IngestMetrics.Reconnects.WithLabels(Camera.Id).Inc();
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

                failures = pass.FramesFlowed ? 1 : failures + 1;
                SetState(CameraState.Offline, pass.Reason);
                await Task.Delay(Backoff(failures), ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            SetState(CameraState.Stopped, "cancelled");
            throw;
        }
        finally
        {
            IngestMetrics.CameraUp.WithLabels(Camera.Id).Set(0);
            Interlocked.Exchange(ref _running, 0);
        }
    }

    private enum Outcome { Failed, Finished, SwitchDecodeMode }

    private readonly record struct PassResult(Outcome Outcome, string Reason, bool FramesFlowed);

    private async Task<PassResult> RunPassAsync(ChannelWriter<Frame> output, CancellationToken ct)
    {
        // A planned decode-mode switch stays Streaming: the camera is fine, only ffmpeg is restarted.
        if (!_switching)
        {
            string? previous;
            lock (_gate) previous = _state == CameraState.Offline ? _reason : null;
            SetState(CameraState.Connecting, previous); // keeps the last failure's reason while retrying
        }
        using var pass = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var switchRequested = 0;
        var keyframesOnly = false;

        TimeSpan? knownGop;
        lock (_gate) knownGop = _gop;
        var readOptions = new VideoReadOptions
        {
            SampleInterval = Camera.SampleInterval,
            RealTime = Camera.RealTime,
            Loop = Camera.Loop,
            Decode = _options.Decode,
            KeyframeInterval = knownGop,
            OpenTimeout = _options.OpenTimeout,
            StallTimeout = _options.StallTimeout,
            DecoderThreads = _options.DecoderThreads,
            FfmpegPath = _options.FfmpegPath,
            FirstSequence = _nextSequence,
            // A planned decode-mode switch reconnects to the same stream: no need to probe it again.
            KnownStream = _switching ? _lastStream : null,
        };
        _switching = false;
        var sampling = readOptions;
        readOptions = readOptions with
        {
            OnOpened = info =>
            {
                keyframesOnly = info.KeyframesOnly;
                _lastStream = info;
                lock (_gate)
                {
                    _keyframesOnly = info.KeyframesOnly;
                    _gop ??= info.KeyframeInterval;
                }
            },
            OnKeyframeInterval = gop =>
            {
                lock (_gate) _gop = gop;
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
                    _framesDecoded++;
                }
                if (!flowed)
                {
                    flowed = true;
                    SetState(CameraState.Streaming, null);
                }
                IngestMetrics.FramesDecoded.WithLabels(Camera.Id).Inc();

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
            return new PassResult(Outcome.Failed, $"{StreamException.Describe(e.Kind)}: {e.Reason}", flowed);
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
        return new PassResult(Outcome.Failed, _live ? "stream ended" : "file ended unexpectedly", flowed);
    }

    private CameraStatus Snapshot() => new()
    {
        CameraId = Camera.Id,
        State = _state,
        Reason = _reason,
        Since = _since,
        LastFrameCaptureTime = _lastCapture,
        FramesDecoded = _framesDecoded,
        Reconnects = _reconnects,
        KeyframesOnly = _keyframesOnly,
        KeyframeInterval = _gop,
    };

    private TimeSpan Backoff(int failures)
    {
        var exponent = Math.Min(Math.Max(failures - 1, 0), 30);
        var ticks = Math.Min(_options.MaxBackoff.Ticks, _options.InitialBackoff.Ticks * Math.Pow(2, exponent));
        var jitter = 1 + (Random.Shared.NextDouble() * 2 - 1) * Math.Clamp(_options.BackoffJitter, 0, 1);
        return TimeSpan.FromTicks((long)(ticks * jitter));
    }

    private void SetState(CameraState state, string? reason)
    {
        CameraStatus snapshot;
        lock (_gate)
        {
            if (_state == state && _reason == reason) return;
            (_state, _reason, _since) = (state, reason, DateTimeOffset.UtcNow);
            snapshot = Snapshot();
        }
        IngestMetrics.CameraUp.WithLabels(Camera.Id).Set(state == CameraState.Streaming ? 1 : 0);

        var level = state == CameraState.Offline ? LogLevel.Warning : LogLevel.Information;
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
}
