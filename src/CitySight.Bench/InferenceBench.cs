using System.Diagnostics;
using System.Threading.Channels;
using CitySight.Domain;
using CitySight.Inference;
using CitySight.Ingest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CitySight.Bench;

/// <summary>
/// Measures one batch size: the real detect stage (<see cref="FrameMailboxes"/> → <see cref="DetectionStage"/> →
/// <see cref="BatchingDetector"/>) fed by N streams, against the bare baseline: the same number of sessions with the same
/// options running <see cref="OnnxDetector.RunPrepared"/> on inputs already filled from real frames, one thread each.
/// The two alternate in rounds (pipeline, pause and drain, bare, resume, …) so that a noisy machine loads both alike.
/// </summary>
internal static partial class InferenceBench
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
                MaxFrameWidth = s.MaxFrameWidth,
                MaxFrameHeight = s.MaxFrameHeight,
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
}
