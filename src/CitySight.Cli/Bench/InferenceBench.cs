using System.Diagnostics;
using System.Threading.Channels;
using CitySight.Domain;
using CitySight.Imaging;
using CitySight.Inference;
using CitySight.Ingest;
using CitySight.Service;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CitySight.Cli.Bench;

/// <summary>A bench input that cannot be used, or a model that cannot run: one line for the user, exit code 2.</summary>
internal sealed class BenchException(string message) : Exception(message);

internal enum BenchSourceKind { Video, Images, Rtsp }

/// <summary>
/// What the bench feeds the pipeline: a video file (looped, decoded by ffmpeg as fast as the pipeline takes frames), an
/// RTSP URL (live, newest frame wins), or a folder of images (decoded once, copied into fresh frames in a loop). Also holds
/// a few real frames for the bare baseline's input tensors.
/// </summary>
internal sealed class BenchSource : IDisposable
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png"];

    /// <summary>Images of a folder that are used at most (each stream cycles through them).</summary>
    private const int MaxImages = 64;

    private BenchSource(string location, BenchSourceKind kind, Frame[] samples)
    {
        Location = location;
        Kind = kind;
        Samples = samples;
    }

    /// <summary>The path or URL as given (may hold a password: print <see cref="Display"/>).</summary>
    public string Location { get; }

    public string Display => Secrets.RedactUrl(Location);
    public BenchSourceKind Kind { get; }

    /// <summary>Real frames: every image of a folder, or the first frames of a video or stream.</summary>
    public Frame[] Samples { get; }

    /// <summary>
    /// Checks the source and reads its sample frames. <paramref name="samples"/>: frames wanted from a video or stream
    /// (the largest batch measured). <paramref name="maxWidth"/>: the service's decoder scaling (0 = none).
    /// </summary>
    /// <exception cref="BenchException">Missing, empty or unreadable.</exception>
    public static async Task<BenchSource> OpenAsync(string location, int samples, int maxWidth, int maxHeight, CancellationToken ct)
    {
        if (VideoReader.IsNetworkUrl(location))
            return new BenchSource(location, BenchSourceKind.Rtsp,
                await ReadSamplesAsync(StreamUrl(location, 0), live: true, samples, maxWidth, maxHeight, ct).ConfigureAwait(false));

        var full = Path.GetFullPath(location);
        var isImage = File.Exists(full) && ImageExtensions.Contains(Path.GetExtension(full).ToLowerInvariant());
        if (Directory.Exists(full) || isImage)
        {
            var files = isImage
                ? [full]
                : Directory.EnumerateFiles(full)
                    .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                    .Order(StringComparer.Ordinal)
                    .Take(MaxImages)
                    .ToList();
            if (files.Count == 0)
                throw new BenchException($"no *.jpg or *.png images in the folder {location}");
            var frames = new List<Frame>(files.Count);
            try
            {
                foreach (var f in files)
                {
                    try
                    {
                        frames.Add(EvidenceImage.LoadFrame(f, "bench"));
                    }
                    catch (Exception ex) when (ex is InvalidDataException or IOException)
                    {
                        throw new BenchException($"cannot read the image {f}: {ex.Message}");
                    }
                }
            }
            catch
            {
                foreach (var f in frames) f.Dispose();
                throw;
            }
            return new BenchSource(full, BenchSourceKind.Images, [.. frames]);
        }

        if (!File.Exists(full))
            throw new BenchException($"no such file or folder: {location}");
        return new BenchSource(full, BenchSourceKind.Video,
            await ReadSamplesAsync(full, live: false, samples, maxWidth, maxHeight, ct).ConfigureAwait(false));
    }

    /// <summary>The URL of stream <paramref name="index"/>: "{i}" in an RTSP URL becomes the stream number (0, 1, …).</summary>
    public static string StreamUrl(string location, int index) =>
        location.Replace("{i}", index.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private static async Task<Frame[]> ReadSamplesAsync(string url, bool live, int count, int maxWidth, int maxHeight, CancellationToken ct)
    {
        var frames = new List<Frame>(count);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var options = new VideoReadOptions
        {
            SampleInterval = TimeSpan.Zero,
            RealTime = false,
            Loop = !live,
            Decode = DecodeMode.AllFrames,
            DecoderThreads = 1,
            MaxWidth = maxWidth,
            MaxHeight = maxHeight,
        };
        try
        {
            await foreach (var f in VideoReader.ReadAsync("bench", url, options, timeout.Token).ConfigureAwait(false))
            {
                frames.Add(f);
                if (frames.Count >= count) break;
            }
        }
        catch (StreamException ex)
        {
            foreach (var f in frames) f.Dispose();
            throw new BenchException($"cannot read {Secrets.RedactUrl(url)}: {StreamException.Describe(ex.Kind)}: {ex.Reason}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            foreach (var f in frames) f.Dispose();
            throw new BenchException($"no frame from {Secrets.RedactUrl(url)} within 30 s");
        }
        catch
        {
            foreach (var f in frames) f.Dispose();
            throw;
        }
        if (frames.Count == 0) throw new BenchException($"{Secrets.RedactUrl(url)} has no decodable video frame");
        return [.. frames];
    }

    public void Dispose()
    {
        foreach (var f in Samples) f.Dispose();
    }
}

/// <summary>What one bench measures: the model, the source and how the model runs (the batch size is given per run).</summary>
internal sealed record BenchSettings
{
    public required ModelSpec Spec { get; init; }
    public required string ModelPath { get; init; }
    public required BenchSource Source { get; init; }
    public int Streams { get; init; } = 4;

    /// <summary>Provider, device, threads and instances; MaxBatch and MaxWait are set per batch size.</summary>
    public required DetectorOptions Options { get; init; }

    /// <summary>Null: <see cref="InferenceBench.DefaultMaxWait"/>.</summary>
    public TimeSpan? MaxWait { get; init; }

    /// <summary>Frames measured per batch size, after the warm-up.</summary>
    public int Frames { get; init; } = 200;

    public int MaxFrameWidth { get; init; }
    public int MaxFrameHeight { get; init; }

    /// <summary>A source that delivers no frame for this long fails the bench.</summary>
    public TimeSpan StallLimit { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The warm-up lasts at least this long as well as <see cref="InferenceBench.WarmupFrames"/> frames: JIT tiering, ONNX
    /// Runtime's first runs and the decoders' start-up otherwise show in the first batch size measured (seen: -25 %).
    /// </summary>
    public TimeSpan WarmupTime { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Pipeline and bare measurements alternate this many times (null: <see cref="InferenceBench.DefaultRounds"/>), so that
    /// load from other processes and clock changes hit both sides alike instead of whichever ran first.
    /// </summary>
    public int? Rounds { get; init; }
}

/// <summary>
/// The log of the stage and the sources during a run: nothing is printed (the progress display owns the terminal), but
/// the last warning explains a stall, and a failed detection ends the bench at once instead of being skipped.
/// </summary>
internal sealed class BenchLog : ILogger
{
    private string? _lastProblem;
    private string? _detectionFailure;

    public string? LastProblem => Volatile.Read(ref _lastProblem);
    public string? DetectionFailure => Volatile.Read(ref _detectionFailure);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel < LogLevel.Warning) return;
        var message = formatter(state, exception) + (exception is null ? "" : $": {exception.Message}");
        Volatile.Write(ref _lastProblem, message);
        if (logLevel >= LogLevel.Error && message.StartsWith("Detection failed", StringComparison.Ordinal))
            Interlocked.CompareExchange(ref _detectionFailure, message, null);
    }
}

/// <summary>The figures of one batch size.</summary>
internal sealed record BenchRun
{
    public required int Batch { get; init; }
    public required int Sessions { get; init; }
    public required int BatchCapacity { get; init; }
    public required bool DynamicBatch { get; init; }
    public required ProviderChoice Provider { get; init; }
    public required double MaxWaitMs { get; init; }
    public required int WarmupFrames { get; init; }
    public required int Rounds { get; init; }
    public required int Frames { get; init; }
    public required double PipelineSeconds { get; init; }
    public required double PipelineFps { get; init; }

    /// <summary>Latency of each measured frame (hand-over to the detectors until its detections are back), sorted, ms.</summary>
    public required double[] LatenciesMs { get; init; }

    public required double MeanBatchFill { get; init; }

    /// <summary>CPU used while the pipeline was measured, in % of one core: this process and its ffmpeg decoders.</summary>
    public required double CpuPercent { get; init; }

    public required long BareImages { get; init; }
    public required double BareSeconds { get; init; }
    public required double BareFps { get; init; }
    public required double BareCpuPercent { get; init; }

    public double Ratio => BareFps > 0 ? PipelineFps / BareFps : double.NaN;

    public double Percentile(double q) => InferenceBench.Percentile(LatenciesMs, q);
}

/// <summary>Progress of a bench, called from its own tasks (not per frame: a few times a second at most).</summary>
internal interface IBenchProgress
{
    void Phase(int batch, string what);
    void Pipeline(int batch, long done, long total);
    void Bare(int batch, double fraction);
}


/// <summary>
/// Measures one batch size: the real detect stage (<see cref="FrameMailboxes"/> → <see cref="DetectionStage"/> →
/// <see cref="BatchingDetector"/>) fed by N streams, against the bare baseline: the same number of sessions with the same
/// options running <see cref="OnnxDetector.RunPrepared"/> on inputs already filled from real frames, one thread each.
/// The two alternate in rounds (pipeline, pause and drain, bare, resume, …) so that a noisy machine loads both alike.
/// </summary>
internal static class InferenceBench
{
    /// <summary>
    /// MaxWait when none is given: none at batch 1 (nothing to wait for), 5 ms above (a batch's first frame may wait that
    /// long for company; while the sessions are busy the queue fills anyway, so on a CPU it costs no throughput).
    /// </summary>
    public static TimeSpan DefaultMaxWait(int batch) => batch <= 1 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(5);

    /// <summary>Frames skipped at least before measuring (and <see cref="BenchSettings.WarmupTime"/>): sessions, threads, caches and decoders settle.</summary>
    public static int WarmupFrames(int batchCapacity, int sessions) => Math.Max(8, 2 * batchCapacity * sessions);

    /// <summary>Rounds when none are given: one per 50 measured frames, 1 to 4.</summary>
    public static int DefaultRounds(int frames) => Math.Clamp(frames / 50, 1, 4);

    public static async Task<BenchRun> MeasureAsync(BenchSettings s, int batch, IBenchProgress progress, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        var options = s.Options with { MaxBatch = batch, MaxWait = s.MaxWait ?? DefaultMaxWait(batch) };
        var rounds = Math.Clamp(s.Rounds ?? DefaultRounds(s.Frames), 1, s.Frames);
        progress.Phase(batch, "loading the model");
        // Its one warning (a fixed-batch model runs sessions in parallel) shows in the table instead.
        var detector = new BatchingDetector(s.Spec, s.ModelPath, options, NullLogger.Instance);
        var (sessions, capacity, dynamic, provider) = (detector.Instances, detector.BatchCapacity, detector.DynamicBatch, detector.Provider);
        BareRunner? bare = null;
        PipelineWindow window;
        try
        {
            // One bare session per pipeline session: a fixed-batch model at MaxBatch > 1 ran that many in parallel.
            bare = new BareRunner(s, options with { Instances = 1 }, sessions, capacity);
            window = await RunAsync(s, batch, rounds, detector, bare, progress, ct).ConfigureAwait(false);
        }
        finally
        {
            await detector.DisposeAsync().ConfigureAwait(false);
            bare?.Dispose();
        }

        Array.Sort(window.Latencies);
        return new BenchRun
        {
            Batch = batch,
            Sessions = sessions,
            BatchCapacity = capacity,
            DynamicBatch = dynamic,
            Provider = provider,
            MaxWaitMs = options.MaxWait.TotalMilliseconds,
            WarmupFrames = window.WarmupDone,
            Rounds = rounds,
            Frames = s.Frames,
            PipelineSeconds = window.Seconds,
            PipelineFps = s.Frames / window.Seconds,
            LatenciesMs = window.Latencies,
            MeanBatchFill = window.MeanBatchFill(capacity),
            CpuPercent = window.CpuSeconds / window.Seconds * 100,
            BareImages = bare.Images,
            BareSeconds = bare.Seconds,
            BareFps = bare.Images / bare.Seconds,
            BareCpuPercent = bare.CpuSeconds / bare.Seconds * 100,
        };
    }

    /// <summary>Nearest-rank percentile of sorted values (so p50 ≤ p95 ≤ p99 always holds).</summary>
    public static double Percentile(double[] sorted, double q)
    {
        if (sorted.Length == 0) return double.NaN;
        var rank = (int)Math.Ceiling(q * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    private static async Task<PipelineWindow> RunAsync(BenchSettings s, int batch, int rounds, BatchingDetector detector, BareRunner bare,
        IBenchProgress progress, CancellationToken ct)
    {
        var source = s.Source;
        var live = source.Kind == BenchSourceKind.Rtsp;
        // After a pause the queues are empty: skip what fills them again, so resumed frames do not show a short latency.
        var refill = Math.Max(1, 2 * detector.BatchCapacity * detector.Instances);
        var window = new PipelineWindow(detector, WarmupFrames(detector.BatchCapacity, detector.Instances), s.WarmupTime, refill, s.Frames,
            hasDecoders: source.Kind != BenchSourceKind.Images);
        // Frames measured by the end of each round.
        var targets = Enumerable.Range(1, rounds).Select(r => (int)((long)s.Frames * r / rounds)).ToArray();

        var gate = new Gate();
        var cameras = Enumerable.Range(0, s.Streams).Select(i => CameraFor(source, i)).ToArray();
        var mailboxes = new FrameMailboxes();
        // Like the service: a live stream is newest-wins; a file played faster than real time is lossless.
        var writers = cameras.Select(c => new GatedWriter(mailboxes.For(c, lossless: !live), gate, live)).ToArray();
        var dropped = live ? cameras.Select(c => DroppedFrames.WithLabels(c.Id, c.GroupId)).ToArray() : [];
        var output = Channel.CreateBounded<DetectedFrame>(new BoundedChannelOptions(8)
        {
            FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true,
        });
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var stopSources = CancellationTokenSource.CreateLinkedTokenSource(abort.Token);
        string? failure = null;
        var log = new BenchLog();

        var firstRound = window.Arm(targets[0], first: true);
        var stage = new DetectionStage([detector], _ => null, log);
        var stageTask = stage.RunAsync(mailboxes, output.Writer, abort.Token);
        var producers = ProduceAsync(s, log, cameras, writers, mailboxes, stopSources.Token);
        var consumer = Task.Run(async () =>
        {
            await foreach (var detected in output.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                detected.Frame.Dispose();
                window.OnFrame(detected.InferenceTime);
            }
            window.Ended();
        }, CancellationToken.None);

        progress.Phase(batch, "warm-up");
        var monitor = Task.Run(async () =>
        {
            var lastDecoderSample = Stopwatch.GetTimestamp();
            var measuring = false;
            while (!abort.IsCancellationRequested && window.Measured < s.Frames)
            {
                try { await Task.Delay(250, abort.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
                progress.Pipeline(batch, window.Measured, s.Frames);
                if (!measuring && window.WarmupDone >= 0)
                {
                    measuring = true;
                    progress.Phase(batch, rounds > 1 ? $"round 1/{rounds}" : "measuring");
                }
                if (Stopwatch.GetElapsedTime(lastDecoderSample) > TimeSpan.FromSeconds(1))
                {
                    window.SampleDecoders();
                    lastDecoderSample = Stopwatch.GetTimestamp();
                }
                if (log.DetectionFailure is { } failed)
                {
                    failure = $"model '{s.Spec.Name}' failed while running: {failed}";
                    abort.Cancel();
                }
                else if (!window.Paused && Stopwatch.GetElapsedTime(window.LastFrame) > s.StallLimit)
                {
                    failure = (window.Seen == 0
                        ? $"no frame came out of the pipeline within {s.StallLimit.TotalSeconds:0} s (source {source.Display})"
                        : $"the pipeline stalled: no frame for {s.StallLimit.TotalSeconds:0} s after {window.Seen} (source {source.Display})")
                        + (log.LastProblem is { } problem ? $"; last warning: {problem}" : "");
                    abort.Cancel();
                }
            }
        }, CancellationToken.None);

        try
        {
            var round = firstRound;
            for (var r = 0; r < rounds; r++)
            {
                if (!await round.ConfigureAwait(false)) break; // the pipeline ended (failure or source end) before the round did
                var seconds = window.LastSegmentSeconds;
                var last = r == rounds - 1;
                if (!last)
                {
                    // Pause: no new frames in; what is in flight comes out; then the sessions are idle.
                    window.Paused = true;
                    gate.Close();
                    await DrainAsync(window, writers, dropped, s.StallLimit, abort.Token).ConfigureAwait(false);
                }
                else
                {
                    stopSources.Cancel();
                    await consumer.ConfigureAwait(false);
                }

                progress.Phase(batch, rounds > 1 ? $"bare session.Run, round {r + 1}/{rounds}" : "bare session.Run");
                var done = r;
                // A live stream cannot wait like a file's ffmpeg blocked on its pipe: its decoders are stopped instead, so
                // that they take no CPU from the bare model.
                var stopped = live && !last ? SignalDecoders(SigStop) : [];
                try
                {
                    await Task.Run(() => bare.Segment(TimeSpan.FromSeconds(seconds), targets[r] - (r == 0 ? 0 : targets[r - 1]),
                        f => progress.Bare(batch, (done + f) / rounds), abort.Token), CancellationToken.None).ConfigureAwait(false);
                }
                finally
                {
                    foreach (var pid in stopped) _ = Kill(pid, SigCont);
                }

                if (!last)
                {
                    round = window.Arm(targets[r + 1], first: false);
                    window.Paused = false;
                    gate.Open();
                    progress.Phase(batch, $"round {r + 2}/{rounds}");
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            // A failure found by the monitor or the drain: reported below.
        }
        catch (BenchException ex)
        {
            failure ??= ex.Message;
        }
        finally
        {
            stopSources.Cancel();
            gate.Open();
            await producers.ConfigureAwait(false);
            await stageTask.ConfigureAwait(false);
            await consumer.ConfigureAwait(false);
            abort.Cancel();
            await monitor.ConfigureAwait(false);
        }
        ct.ThrowIfCancellationRequested();
        if (failure is not null) throw new BenchException(failure);
        if (window.Measured < s.Frames || bare.Seconds <= 0)
            throw new BenchException($"the source {source.Display} ended after {window.Seen} frames, {window.Measured} of them measured; " +
                                     $"{s.Frames} were to be measured after the warm-up");
        progress.Pipeline(batch, s.Frames, s.Frames);
        return window;
    }

    private const int SigStop = 19, SigCont = 18; // Linux (x86-64 and arm64)

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>Sends a signal to this process's ffmpeg children; returns their ids.</summary>
    private static List<int> SignalDecoders(int signal)
    {
        if (!OperatingSystem.IsLinux()) return [];
        var pids = ProcessUsage.Children(ProcessUsage.Self, "ffmpeg");
        foreach (var pid in pids) _ = Kill(pid, signal);
        return pids;
    }

    // The mailboxes' own counter (the same instance: prometheus-net returns a metric already registered under the name).
    private static readonly Prometheus.Counter DroppedFrames = Prometheus.Metrics.CreateCounter(
        "citysight_frames_dropped_total", "Decoded frames replaced by a newer one before detection took them.",
        new Prometheus.CounterConfiguration { LabelNames = ["camera", "group"] });

    /// <summary>Waits until every frame let in has come out of the stage (or was replaced in a newest-wins mailbox).</summary>
    private static async Task DrainAsync(PipelineWindow window, GatedWriter[] writers, Prometheus.Counter.Child[] dropped, TimeSpan limit,
        CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            long passed = 0;
            foreach (var w in writers) passed += w.Passed;
            double lost = 0;
            foreach (var d in dropped) lost += d.Value;
            if (window.Seen >= passed - (long)lost) return;
            if (Stopwatch.GetElapsedTime(started) > limit)
                throw new BenchException($"the pipeline did not drain within {limit.TotalSeconds:0} s of a pause: {passed - (long)lost - window.Seen} frame(s) still in it");
            await Task.Delay(2, ct).ConfigureAwait(false);
        }
    }

    private static Camera CameraFor(BenchSource source, int index)
    {
        var live = source.Kind == BenchSourceKind.Rtsp;
        return new Camera
        {
            Id = $"bench{index:D2}",
            Name = $"bench stream {index}",
            GroupId = "bench",
            Url = live ? BenchSource.StreamUrl(source.Location, index) : source.Location,
            SampleInterval = TimeSpan.Zero, // every frame
            RealTime = false,               // a file as fast as it decodes: the pipeline sets the pace
            Loop = !live,
        };
    }

    /// <summary>Feeds every stream until cancelled, then completes the mailboxes.</summary>
    private static async Task ProduceAsync(BenchSettings s, ILogger log, Camera[] cameras, GatedWriter[] writers, FrameMailboxes mailboxes,
        CancellationToken ct)
    {
        try
        {
            await Task.WhenAll(cameras.Select((c, i) => Task.Run(() => StreamAsync(s, log, i, c, writers[i], ct), CancellationToken.None)))
                .ConfigureAwait(false);
        }
        finally
        {
            mailboxes.Complete();
        }
    }

    private static async Task StreamAsync(BenchSettings s, ILogger log, int index, Camera camera, ChannelWriter<Frame> writer, CancellationToken ct)
    {
        try
        {
            if (s.Source.Kind == BenchSourceKind.Images)
            {
                await ReplayImagesAsync(camera.Id, index, s.Source.Samples, writer, ct).ConfigureAwait(false);
                return;
            }
            var cameraSource = new CameraSource(camera, log, new CameraSourceOptions
            {
                DecoderThreads = 1, // many streams on few cores, as the ingest bench runs them
                MaxWidth = s.MaxFrameWidth,
                MaxHeight = s.MaxFrameHeight,
            });
            await cameraSource.RunAsync(writer, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    private static async Task ReplayImagesAsync(string cameraId, int offset, Frame[] images, ChannelWriter<Frame> writer, CancellationToken ct)
    {
        var t0 = DateTimeOffset.UtcNow;
        for (long seq = 0; !ct.IsCancellationRequested; seq++)
        {
            var image = images[(int)((seq + offset) % images.Length)];
            var frame = Frame.Rent(cameraId, seq, t0.AddTicks(seq * TimeSpan.TicksPerMillisecond * 40), image.Width, image.Height);
            image.Bgr.CopyTo(frame.Bgr);
            // The writer disposes the frame when the wait is cancelled.
            await writer.WriteAsync(frame, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Measurement state, advanced by the consumer on each frame out of the stage: warm-up → measuring (a round) → idle
    /// (paused, draining) → refilling → measuring … Latencies go into a pre-sized array.
    /// </summary>
    private sealed class PipelineWindow(BatchingDetector detector, int warmup, TimeSpan warmupTime, int refill, int frames, bool hasDecoders)
    {
        private const int WarmingUp = 0, Refilling = 1, Measuring = 2, Idle = 3;

        public readonly double[] Latencies = new double[frames];
        private readonly CpuMeter _decoders = new(() => hasDecoders ? ProcessUsage.Children(ProcessUsage.Self, "ffmpeg") : []);
        private int _state = Idle;
        private int _target;
        private int _skip;
        private TaskCompletionSource<bool>? _roundDone;
        private long _seen;
        private long _lastFrame = Stopwatch.GetTimestamp();
        private long _firstFrame;
        private int _measured;
        private int _warmupDone = -1;
        private long _segmentStart, _runs0, _frames0;
        private double _cpu0;
        private long _runs, _framesRun;
        private volatile bool _paused;

        public long Seen => Interlocked.Read(ref _seen);
        public long LastFrame => Interlocked.Read(ref _lastFrame);
        public int Measured => Volatile.Read(ref _measured);

        /// <summary>Frames skipped before measuring; -1 while still warming up.</summary>
        public int WarmupDone => Volatile.Read(ref _warmupDone);

        /// <summary>Measured seconds over every round, and the last round's alone.</summary>
        public double Seconds { get; private set; }
        public double LastSegmentSeconds { get; private set; }

        /// <summary>CPU seconds of this process and its decoders during the measured rounds.</summary>
        public double CpuSeconds { get; private set; }

        /// <summary>No frames are let in: the stall watch rests.</summary>
        public bool Paused
        {
            get => _paused;
            set
            {
                if (!value) Interlocked.Exchange(ref _lastFrame, Stopwatch.GetTimestamp());
                _paused = value;
            }
        }

        public double MeanBatchFill(int capacity) => _runs > 0 ? (double)_framesRun / _runs / capacity : double.NaN;

        /// <summary>Starts the next round: measure until <paramref name="target"/> frames are measured in all. True when it got there.</summary>
        public Task<bool> Arm(int target, bool first)
        {
            _target = target;
            _skip = refill;
            var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _roundDone, done);
            Volatile.Write(ref _state, first ? WarmingUp : Refilling);
            return done.Task;
        }

        public void OnFrame(TimeSpan latency)
        {
            var n = _seen;
            var now = Stopwatch.GetTimestamp();
            Interlocked.Exchange(ref _seen, n + 1);
            Interlocked.Exchange(ref _lastFrame, now);
            if (n == 0) _firstFrame = now;
            switch (Volatile.Read(ref _state))
            {
                case WarmingUp:
                    if (n + 1 < warmup || Stopwatch.GetElapsedTime(_firstFrame, now) < warmupTime) return;
                    Volatile.Write(ref _warmupDone, (int)(n + 1));
                    Begin();
                    return;
                case Refilling:
                    if (--_skip > 0) return;
                    Begin();
                    return;
                case Measuring:
                    var k = _measured;
                    Latencies[k] = latency.TotalMilliseconds;
                    Volatile.Write(ref _measured, k + 1);
                    if (k + 1 >= _target) End();
                    return;
            }
        }

        /// <summary>The stage's output completed: a round still open will not finish.</summary>
        public void Ended() => Volatile.Read(ref _roundDone)?.TrySetResult(false);

        private void Begin()
        {
            _runs0 = detector.Runs;
            _frames0 = detector.Frames;
            _cpu0 = ProcessUsage.SelfCpuSeconds();
            lock (_decoders) _decoders.Reset();
            _segmentStart = Stopwatch.GetTimestamp();
            Volatile.Write(ref _state, Measuring);
        }

        private void End()
        {
            var seconds = Stopwatch.GetElapsedTime(_segmentStart).TotalSeconds;
            _runs += detector.Runs - _runs0;
            _framesRun += detector.Frames - _frames0;
            double decoders;
            lock (_decoders)
            {
                _decoders.Sample();
                decoders = _decoders.Seconds;
            }
            CpuSeconds += ProcessUsage.SelfCpuSeconds() - _cpu0 + decoders;
            Seconds += seconds;
            LastSegmentSeconds = seconds;
            Volatile.Write(ref _state, Idle);
            Volatile.Read(ref _roundDone)!.TrySetResult(true);
        }

        /// <summary>Counts decoders that restarted inside a round (call now and then).</summary>
        public void SampleDecoders()
        {
            if (!hasDecoders || Volatile.Read(ref _state) != Measuring) return;
            lock (_decoders) _decoders.Sample();
        }
    }

    /// <summary>Lets frames in, or holds them (a file) or drops them (a live stream) while the bare model runs.</summary>
    private sealed class Gate
    {
        private volatile TaskCompletionSource _open = Opened();

        private static TaskCompletionSource Opened()
        {
            var t = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            t.SetResult();
            return t;
        }

        public bool IsOpen => _open.Task.IsCompleted;

        public void Close()
        {
            if (IsOpen) _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public void Open() => _open.TrySetResult();

        public Task WaitAsync(CancellationToken ct) => _open.Task.WaitAsync(ct);
    }

    /// <summary>A stream's writer behind the <see cref="Gate"/>; counts the frames it let in (for the drain).</summary>
    private sealed class GatedWriter(ChannelWriter<Frame> inner, Gate gate, bool live) : ChannelWriter<Frame>
    {
        private long _passed;

        public long Passed => Interlocked.Read(ref _passed);

        public override bool TryWrite(Frame item)
        {
            if (!gate.IsOpen)
            {
                if (!live) return false;
                item.Dispose(); // a live camera goes on streaming; while paused its frames are not wanted
                return true;
            }
            Interlocked.Increment(ref _passed);
            if (inner.TryWrite(item)) return true;
            Interlocked.Decrement(ref _passed);
            return false;
        }

        public override ValueTask WriteAsync(Frame item, CancellationToken cancellationToken = default)
        {
            if (!gate.IsOpen) return WriteWhenOpenAsync(item, cancellationToken);
            Interlocked.Increment(ref _passed);
            return inner.WriteAsync(item, cancellationToken); // the mailbox disposes the frame if the wait is cancelled
        }

        private async ValueTask WriteWhenOpenAsync(Frame item, CancellationToken ct)
        {
            if (live)
            {
                item.Dispose();
                return;
            }
            try
            {
                await gate.WaitAsync(ct).ConfigureAwait(false);
            }
            catch
            {
                item.Dispose();
                throw;
            }
            Interlocked.Increment(ref _passed);
            await inner.WriteAsync(item, ct).ConfigureAwait(false);
        }

        public override async ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default)
        {
            if (!live && !gate.IsOpen) await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            return await inner.WaitToWriteAsync(cancellationToken).ConfigureAwait(false);
        }

        public override bool TryComplete(Exception? error = null) => inner.TryComplete(error);
    }

    /// <summary>
    /// The baseline: sessions with the pipeline's options, inputs filled once from real frames, each run on its own thread
    /// in a loop of <see cref="OnnxDetector.RunPrepared"/>, one segment per round.
    /// </summary>
    private sealed class BareRunner : IDisposable
    {
        private readonly OnnxDetector[] _sessions;
        private readonly int _capacity;

        public BareRunner(BenchSettings s, DetectorOptions options, int sessions, int capacity)
        {
            _capacity = capacity;
            _sessions = new OnnxDetector[sessions];
            try
            {
                var results = new IReadOnlyList<Detection>[capacity];
                var samples = s.Source.Samples;
                for (var i = 0; i < sessions; i++)
                {
                    var d = _sessions[i] = new OnnxDetector(s.Spec, s.ModelPath, options);
                    if (d.BatchCapacity != capacity)
                        throw new InvalidOperationException($"a bare session takes {d.BatchCapacity} frames per run, the pipeline's {capacity}");
                    var frames = Enumerable.Range(0, capacity).Select(k => samples[(k + i * capacity) % samples.Length]).ToArray();
                    d.Detect(frames, results); // fills the input slots with real letterboxed frames
                    d.RunPrepared(capacity);   // and warms the session
                    d.RunPrepared(capacity);
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public long Images { get; private set; }
        public double Seconds { get; private set; }
        public double CpuSeconds { get; private set; }

        /// <summary>Runs every session for about <paramref name="duration"/> and at least <paramref name="minImages"/> images.</summary>
        public void Segment(TimeSpan duration, int minImages, Action<double> progress, CancellationToken ct)
        {
            var counts = new long[_sessions.Length];
            var stop = 0;
            using var go = new ManualResetEventSlim(false);
            var threads = new Thread[_sessions.Length];
            for (var i = 0; i < _sessions.Length; i++)
            {
                var d = _sessions[i];
                var slot = i;
                threads[i] = new Thread(() =>
                {
                    go.Wait();
                    while (Volatile.Read(ref stop) == 0)
                    {
                        d.RunPrepared(_capacity);
                        Interlocked.Add(ref counts[slot], _capacity);
                    }
                }) { IsBackground = true, Name = $"bench-bare-{i}" };
                threads[i].Start();
            }

            var cpu0 = ProcessUsage.SelfCpuSeconds();
            var clock = Stopwatch.StartNew();
            go.Set();
            while (true)
            {
                Thread.Sleep(10);
                long images = 0;
                for (var i = 0; i < counts.Length; i++) images += Interlocked.Read(ref counts[i]);
                var elapsed = clock.Elapsed;
                progress(Math.Clamp(elapsed / duration, 0, 1));
                if ((elapsed >= duration && images >= minImages) || ct.IsCancellationRequested) break;
            }
            Volatile.Write(ref stop, 1);
            foreach (var t in threads) t.Join();
            // Every image counted was done inside [start, last join].
            var seconds = clock.Elapsed.TotalSeconds;
            CpuSeconds += ProcessUsage.SelfCpuSeconds() - cpu0;
            ct.ThrowIfCancellationRequested();
            Images += counts.Sum();
            Seconds += seconds;
            progress(1);
        }

        public void Dispose()
        {
            foreach (var d in _sessions) d?.Dispose();
        }
    }
}
