using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using CitySight.CameraSimulator;
using CitySight.Domain;
using CitySight.Inference;
using CitySight.Ingest;
using CitySight.Ingest.Patrol;
using CitySight.Service;
using Microsoft.Extensions.Logging.Abstractions;

namespace CitySight.Bench;

/// <summary>
/// Ingest benchmarks against the project's RTSP simulator (a separate process, measured separately):
/// continuous keyframe-only streams against the same number of bare `ffmpeg -skip_frame nokey` processes measured in
/// the same run, and a patrol of many cameras.
/// </summary>
internal static class IngestBench
{
    public sealed record ContinuousResult(
        int Cameras, double DurationS, double CitysightCpuPercent, double BaselineCpuPercent, double Ratio,
        double CitysightCpuPerCameraPercent, double BaselineCpuPerCameraPercent, double SimulatorCpuPercent,
        double MaxFrameAgeS, double AgeLimitS, bool Sustained, double FramesPerSecond, long Dropped,
        double CitysightRssMiBPerCamera, double BaselineRssMiBPerCamera);

    public sealed record PatrolResult(
        int Cameras, int Concurrency, double IntervalS, double DurationS, long Visits, long Failures, double VisitsPerSecond,
        double CycleTimeS, double WorstGapS, double MedianGapS, double CitysightCpuPercent, double SimulatorCpuPercent,
        double VisitP50Ms, double VisitP95Ms);

    /// <summary>The bench source: a real street clip scaled to 1080p H.264 with a fixed GOP (cached).</summary>
    public static async Task<string> Source1080pAsync(string clip, string cacheDir, int gopFrames, CancellationToken ct)
    {
        Directory.CreateDirectory(cacheDir);
        var info = new FileInfo(clip);
        var target = Path.Combine(cacheDir, $"{Path.GetFileNameWithoutExtension(clip)}-{info.Length}-1080p-g{gopFrames}.mp4");
        if (File.Exists(target)) return target;
        var temp = target + ".tmp.mp4";
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true };
        foreach (var a in new[] { "-y", "-loglevel", "error", "-i", clip, "-an", "-vf", "scale=1920:1080", "-c:v", "libx264", "-preset", "veryfast",
                     "-b:v", "3M", "-maxrate", "4M", "-bufsize", "8M", "-g", gopFrames.ToString(), "-keyint_min", gopFrames.ToString(),
                     "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-movflags", "+faststart", temp })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        if (p.ExitCode != 0) throw new InvalidOperationException($"ffmpeg could not make the 1080p bench source: {await err}");
        File.Move(temp, target, overwrite: true);
        return target;
    }

    public static async Task<ContinuousResult> ContinuousAsync(string source, int cameras, TimeSpan duration, TimeSpan gop, int maxWidth,
        string cacheDir, Action<string> progress, CancellationToken ct)
    {
        await using var sim = await RtspSimulator.StartAsync(new SimulatorOptions
        {
            Port = 0,
            Mounts = Enumerable.Range(0, cameras).Select(i => new SimulatorMount($"cam{i:D4}", source)).ToList(),
            CacheDir = cacheDir,
        }, ct);
        var simPid = sim.ProcessId ?? 0;

        // --- CitySight: one supervised keyframe-only stream per camera into the newest-wins mailboxes, drained by a consumer.
        progress($"{cameras} camera(s): CitySight streams warming up");
        var mailboxes = new FrameMailboxes();
        var lastArrival = new ConcurrentDictionary<string, long>();
        long frames = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var consumer = Task.Run(async () =>
        {
            await foreach (var f in mailboxes.ReadAllAsync(CancellationToken.None))
            {
                lastArrival[f.CameraId] = Stopwatch.GetTimestamp();
                Interlocked.Increment(ref frames);
                f.Dispose();
            }
        }, CancellationToken.None);
        var sources = Enumerable.Range(0, cameras).Select(i => new CameraSource(
            new Camera { Id = $"cam{i:D4}", Name = "bench", GroupId = "bench", Url = sim.UrlFor($"cam{i:D4}"), SampleInterval = gop },
            NullLogger.Instance,
            new CameraSourceOptions { Decode = DecodeMode.KeyframesOnly, DecoderThreads = 1, MaxFrameWidth = maxWidth })).ToList();
        var running = sources.Select(s => s.RunAsync(mailboxes.For(s.Camera, lossless: false), stop.Token)).ToList();

        var warm = Stopwatch.StartNew();
        while (lastArrival.Count < cameras && warm.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(200, ct);
        var ffmpegs = new CpuMeter(() => ProcessUsage.Children(ProcessUsage.Self, "ffmpeg"));
        var simMeter = new CpuMeter(() => [simPid]);
        ffmpegs.Reset();
        simMeter.Reset();
        var selfStart = ProcessUsage.SelfCpuSeconds();
        var framesStart = Interlocked.Read(ref frames);
        var dropsStart = DroppedTotal();
        long rss = 0;
        double maxAge = 0;
        var window = Stopwatch.StartNew();
        progress($"{cameras} camera(s): measuring CitySight for {duration.TotalSeconds:F0} s");
        while (window.Elapsed < duration)
        {
            await Task.Delay(500, ct);
            ffmpegs.Sample();
            simMeter.Sample();
            var now = Stopwatch.GetTimestamp();
            foreach (var s in sources)
                maxAge = Math.Max(maxAge, lastArrival.TryGetValue(s.Camera.Id, out var t) ? Stopwatch.GetElapsedTime(t, now).TotalSeconds : window.Elapsed.TotalSeconds);
            rss = Math.Max(rss, ProcessUsage.RssBytes(ProcessUsage.Self) + ProcessUsage.Children(ProcessUsage.Self, "ffmpeg").Sum(ProcessUsage.RssBytes));
        }
        var seconds = window.Elapsed.TotalSeconds;
        var ours = ffmpegs.Seconds + (ProcessUsage.SelfCpuSeconds() - selfStart);
        var fps = (Interlocked.Read(ref frames) - framesStart) / seconds;
        var dropped = DroppedTotal() - dropsStart;
        var simCpu = simMeter.Seconds;
        stop.Cancel();
        // Sources end by throwing OperationCanceledException on purpose: that is their normal stop.
        try { await Task.WhenAll(running); } catch (OperationCanceledException) { }
        mailboxes.Complete();
        await consumer;

        // --- Baseline: the same cameras read by bare ffmpeg processes, nothing else.
        progress($"{cameras} camera(s): measuring bare ffmpeg for {duration.TotalSeconds:F0} s");
        var bare = new List<Process>();
        try
        {
            for (var i = 0; i < cameras; i++)
            {
                var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = false, RedirectStandardInput = true };
                foreach (var a in new[] { "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-skip_frame", "nokey", "-threads", "1",
                             "-i", sim.UrlFor($"cam{i:D4}"), "-f", "null", "-" })
                    psi.ArgumentList.Add(a);
                bare.Add(Process.Start(psi)!);
            }
            await Task.Delay(TimeSpan.FromSeconds(5), ct); // the same connect-and-settle allowance CitySight had before its window
            var bareMeter = new CpuMeter(() => bare.Select(p => p.Id));
            bareMeter.Reset();
            long bareRss = 0;
            var bareWindow = Stopwatch.StartNew();
            while (bareWindow.Elapsed < duration)
            {
                await Task.Delay(500, ct);
                bareMeter.Sample();
                bareRss = Math.Max(bareRss, bare.Sum(p => ProcessUsage.RssBytes(p.Id)));
            }
            var baseline = bareMeter.Seconds / bareWindow.Elapsed.TotalSeconds * 100;
            var citysight = ours / seconds * 100;
            var ageLimit = 2 * gop.TotalSeconds;
            return new ContinuousResult(cameras, seconds, citysight, baseline, baseline > 0 ? citysight / baseline : double.NaN,
                citysight / cameras, baseline / cameras, simCpu / seconds * 100, maxAge, ageLimit, maxAge < ageLimit, fps, (long)dropped,
                rss / 1048576.0 / cameras, bareRss / 1048576.0 / cameras);
        }
        finally
        {
            foreach (var p in bare)
            {
                try { p.Kill(); p.WaitForExit(5000); } catch (InvalidOperationException) { }
                p.Dispose();
            }
        }
    }

    public static async Task<PatrolResult> PatrolAsync(string source, int cameras, int concurrency, TimeSpan interval, TimeSpan duration,
        int maxWidth, string cacheDir, Action<string> progress, CancellationToken ct)
    {
        await using var sim = await RtspSimulator.StartAsync(new SimulatorOptions
        {
            Port = 0,
            Mounts = Enumerable.Range(0, cameras).Select(i => new SimulatorMount($"cam{i:D4}", source)).ToList(),
            CacheDir = cacheDir,
            StartTimeout = TimeSpan.FromMinutes(2),
        }, ct);
        var simPid = sim.ProcessId ?? 0;
        var settings = new IngestOptions { PatrolConcurrency = concurrency, MaxFrameWidth = maxWidth };
        var channels = new PipelineChannels();
        var list = Enumerable.Range(0, cameras).Select(i => new Camera
        {
            Id = $"cam{i:D4}", Name = "bench", GroupId = "bench-patrol", Url = sim.UrlFor($"cam{i:D4}"), SampleInterval = interval, Mode = IngestMode.Patrol,
        }).ToList();
        var visitor = new TimedVisitor(new SnapshotVisitor(settings));
        var worker = new PatrolWorker(list, visitor, channels.Producers, settings, TimeProvider.System, NullLogger<PatrolWorker>.Instance);
        var consumer = Task.Run(async () => { await foreach (var f in channels.Frames.ReadAllAsync(CancellationToken.None)) f.Dispose(); }, CancellationToken.None);

        var ffmpegs = new CpuMeter(() => ProcessUsage.Children(ProcessUsage.Self, "ffmpeg"));
        var simMeter = new CpuMeter(() => [simPid]);
        ffmpegs.Reset();
        simMeter.Reset();
        var selfStart = ProcessUsage.SelfCpuSeconds();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        await worker.StartAsync(stop.Token);
        var window = Stopwatch.StartNew();
        while (window.Elapsed < duration)
        {
            // Sample often: each visit's ffmpeg lives well under a second.
            await Task.Delay(100, ct);
            ffmpegs.Sample();
            simMeter.Sample();
            if (window.ElapsedMilliseconds % 10_000 < 100)
            {
                var st = worker.Status();
                progress($"patrol: {window.Elapsed.TotalSeconds:F0} s, {st.Count(s => s.LastVisit is not null)}/{cameras} visited, worst gap {worker.WorstGap.TotalSeconds:F0} s");
            }
        }
        var seconds = window.Elapsed.TotalSeconds;
        var ours = ffmpegs.Seconds + (ProcessUsage.SelfCpuSeconds() - selfStart);
        var status = worker.Status();
        await worker.StopAsync(CancellationToken.None);
        channels.Frames.Complete();
        await consumer;

        var gaps = status.Where(s => s.LastGap is not null).Select(s => s.LastGap!.Value.TotalSeconds).Order().ToList();
        var visits = visitor.Durations.Order().ToList();
        var rate = visitor.Succeeded / seconds;
        return new PatrolResult(cameras, concurrency, interval.TotalSeconds, seconds, visitor.Succeeded, visitor.Failed, rate,
            rate > 0 ? cameras / rate : double.PositiveInfinity, worker.WorstGap.TotalSeconds, Percentile(gaps, 0.5),
            ours / seconds * 100, simMeter.Seconds / seconds * 100, Percentile(visits, 0.5) * 1000, Percentile(visits, 0.95) * 1000);
    }

    private static double Percentile(List<double> sorted, double q) => sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, q * sorted.Count)];

    private static double DroppedTotal()
    {
        // Read back from the registry so the bench reports what operators see on /metrics.
        using var ms = new MemoryStream();
        Prometheus.Metrics.DefaultRegistry.CollectAndExportAsTextAsync(ms).GetAwaiter().GetResult();
        return System.Text.Encoding.UTF8.GetString(ms.ToArray()).Split('\n')
            .Where(l => l.StartsWith("citysight_frames_dropped_total{", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    private sealed class TimedVisitor(ICameraVisitor inner) : ICameraVisitor
    {
        public ConcurrentBag<double> Durations { get; } = [];
        private long _ok, _failed;
        public long Succeeded => Interlocked.Read(ref _ok);
        public long Failed => Interlocked.Read(ref _failed);

        public async Task<Frame> VisitAsync(Camera camera, CancellationToken ct)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                var f = await inner.VisitAsync(camera, ct);
                Interlocked.Increment(ref _ok);
                return f;
            }
            catch
            {
                Interlocked.Increment(ref _failed);
                throw;
            }
            finally
            {
                Durations.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
        }
    }

    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
