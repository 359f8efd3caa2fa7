using System.Diagnostics;
using System.Threading.Channels;
using CitySight.CameraSimulator;
using CitySight.Domain;
using CitySight.Tests;
using Xunit.Abstractions;

namespace CitySight.Ingest.Tests;

/// <summary>
/// One simulator for the RTSP tests that do not kill it: a looping mount, and mounts kept for snapshots. The hung mount
/// has a simulator of its own (<see cref="StallSimulatorFixture"/>).
/// </summary>
public sealed class SimulatorFixture : IAsyncLifetime
{
    public RtspSimulator Simulator { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Simulator = await RtspSimulator.StartAsync(new SimulatorOptions
        {
            Mounts =
            [
                new SimulatorMount("parking", TestAssets.Media("parking-lot-cctv-640x480.mp4")),
                // A mount per snapshot: a visit to a mount whose stream is still running waits for its next keyframe.
                .. Enumerable.Range(0, 6).Select(i => new SimulatorMount($"snap{i}", TestAssets.Media("parking-lot-cctv-640x480.mp4"))),
            ],
        }, CancellationToken.None);
    }

    public async Task DisposeAsync() => await Simulator.DisposeAsync();
}

public sealed class RtspTests(SimulatorFixture fixture, ITestOutputHelper output) : IClassFixture<SimulatorFixture>
{
    private static readonly CameraSourceOptions FastRetry = new()
    {
        InitialBackoff = TimeSpan.FromMilliseconds(200),
        MaxBackoff = TimeSpan.FromSeconds(2),
    };

    [Fact]
    public async Task CameraSource_StreamsPastTheClipLength_LearnsTheGop_AndKillsFfmpegWhenCancelled()
    {
        var url = fixture.Simulator.UrlFor("parking");
        // 2 s: the simulator's live x264 sometimes closes a GOP a frame early (19 frames, 0.95 s); at 1 s that would
        // stretch keyframe sampling to 1.9 s and rightly keep full decoding, at 2 s both 0.95 s and 1 s GOPs fit.
        var camera = Cameras.For(url, TimeSpan.FromSeconds(2));
        var logger = new CapturingLogger();
        var source = new CameraSource(camera, logger, FastRetry);
        var channel = Channel.CreateUnbounded<Frame>();
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(channel.Writer, cts.Token);

        var frames = new List<(DateTimeOffset Capture, long Sequence)>();
        var ffmpegPids = new HashSet<int>();
        try
        {
            var first = await StreamWait.ForFrameAsync(channel.Reader, camera.Id, StreamWait.Long);
            using (first)
            {
                Assert.Equal(640, first.Width);
                Assert.Equal(480, first.Height);
                frames.Add((first.CaptureTime, first.Sequence));
            }
            Assert.Equal(CameraState.Streaming, source.Status.State);
            Assert.Equal(1, IngestMetrics.CameraUp.WithLabels(camera.Id, camera.GroupId).Value);

            // The clip is 8.1 s: capture times spanning more than 10 s prove the server loops it.
            while (frames[^1].Capture - frames[0].Capture <= TimeSpan.FromSeconds(10.5))
            {
                using var f = await StreamWait.ForFrameAsync(channel.Reader, camera.Id, TimeSpan.FromSeconds(15));
                frames.Add((f.CaptureTime, f.Sequence));
                foreach (var pid in ChildProcesses.WithCommandLineContaining(url)) ffmpegPids.Add(pid);
            }
        }
        finally
        {
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
            StreamWait.Drain(channel.Reader);
        }

        output.WriteLine(string.Join(", ", frames.Select(f => $"#{f.Sequence}@{(f.Capture - frames[0].Capture).TotalSeconds:0.00}")));
        for (var i = 1; i < frames.Count; i++)
        {
            Assert.True(frames[i].Sequence > frames[i - 1].Sequence);
            Assert.True(frames[i].Capture - frames[i - 1].Capture >= TimeSpan.FromMilliseconds(1999), "spacing below the interval");
        }

        var status = source.Status;
        Assert.Equal(CameraState.Stopped, status.State);
        // The simulator's GOP is 20 frames at 20 fps = 1 s (or a frame less, see above): Auto switches to keyframes only.
        Assert.InRange(status.KeyframeInterval!.Value.TotalSeconds, 0.94, 1.06);
        Assert.True(status.KeyframesOnly, "expected the switch to keyframe-only decoding");
        Assert.Equal(0, status.Reconnects); // the planned switch is not a reconnect
        Assert.Equal(status.FramesDecoded, IngestMetrics.FramesDecoded.WithLabels(camera.Id, camera.GroupId).Value);
        Assert.True(status.FramesDecoded >= frames.Count);
        Assert.Equal(0, IngestMetrics.CameraUp.WithLabels(camera.Id, camera.GroupId).Value);
        Assert.Contains(logger.Lines, m => m.Contains("switching to keyframe-only", StringComparison.Ordinal));

        // ffmpeg (and ffprobe) for this camera were seen running, and none is left, not even as a zombie.
        Assert.NotEmpty(ffmpegPids);
        Assert.DoesNotContain(ffmpegPids, ChildProcesses.Exists);
        Assert.Empty(ChildProcesses.WithCommandLineContaining(url));
    }

    [Fact]
    public async Task VideoReader_DescribesTheRtspStream_FromFfmpegsOwnOpening()
    {
        StreamInfo? info = null;
        var options = new VideoReadOptions { SampleInterval = TimeSpan.FromSeconds(1), OnOpened = i => info = i };
        await foreach (var f in VideoReader.ReadAsync("probe-cam", fixture.Simulator.UrlFor("parking"), options))
        {
            f.Dispose();
            break;
        }
        Assert.NotNull(info);
        Assert.Equal((640, 480, "h264", true), (info.Width, info.Height, info.Codec, info.IsLive));
        Assert.False(info.KeyframesOnly); // a live stream's GOP is unknown until measured
    }

    [Fact]
    public async Task WrongMount_GoesOfflineWithNotFound_WhileAnotherCameraKeepsStreaming()
    {
        var good = Cameras.For(fixture.Simulator.UrlFor("parking"), TimeSpan.FromSeconds(1));
        var bad = Cameras.For(fixture.Simulator.UrlFor("no-such-mount"), TimeSpan.FromSeconds(1));
        var logger = new CapturingLogger();
        var goodSource = new CameraSource(good, logger, FastRetry);
        var badSource = new CameraSource(bad, logger, FastRetry);
        var channel = Channel.CreateUnbounded<Frame>();
        using var cts = new CancellationTokenSource();
        var runs = new[] { goodSource.RunAsync(channel.Writer, cts.Token), badSource.RunAsync(channel.Writer, cts.Token) };
        try
        {
            var offline = await StreamWait.ForStatusAsync(badSource, s => s.State == CameraState.Offline, StreamWait.Long, "offline");
            Assert.Contains("not found", offline.Reason, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("404", offline.Reason);

            // It keeps retrying with backoff…
            await StreamWait.ForStatusAsync(badSource, s => s.Reconnects >= 2, StreamWait.Long, "retrying");
            // …and the healthy camera is not affected.
            for (var i = 0; i < 2; i++)
                (await StreamWait.ForFrameAsync(channel.Reader, good.Id, StreamWait.Long)).Dispose();
            Assert.Equal(CameraState.Streaming, goodSource.Status.State);
            Assert.Equal(0, badSource.Status.FramesDecoded);
            Assert.Equal(0, IngestMetrics.CameraUp.WithLabels(bad.Id, bad.GroupId).Value);
            Assert.True(IngestMetrics.Reconnects.WithLabels(bad.Id, bad.GroupId).Value >= 2);
        }
        finally
        {
            await cts.CancelAsync();
            foreach (var r in runs) await Assert.ThrowsAnyAsync<OperationCanceledException>(() => r);
            StreamWait.Drain(channel.Reader);
        }
        Assert.Contains(logger.Lines, m => m.Contains(bad.Id) && m.Contains("Offline"));
    }

    [Fact]
    public async Task PasswordInTheUrl_NeverAppearsInReasonsLogsOrExceptions()
    {
        var url = $"rtsp://user:s3cret@127.0.0.1:{fixture.Simulator.Port}/nope";
        var camera = Cameras.For(url, TimeSpan.FromSeconds(1));
        var logger = new CapturingLogger();
        var source = new CameraSource(camera, logger, FastRetry);
        var offline = await StreamWait.UntilOfflineAsync(source);

        Assert.Contains("not found", offline.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("s3cret", offline.Reason);
        // The logs did name the camera's URL — redacted.
        Assert.Contains(logger.Lines, m => m.Contains("rtsp://user:***@127.0.0.1"));
        Assert.DoesNotContain(logger.Lines, m => m.Contains("s3cret"));

        // The reader's own exception too (its reason quotes ffprobe, which printed the full URL).
        var e = await Assert.ThrowsAsync<StreamException>(async () =>
        {
            await foreach (var f in VideoReader.ReadAsync(camera.Id, url, new VideoReadOptions())) f.Dispose();
        });
        Assert.Equal(StreamFailureKind.NotFound, e.Kind);
        Assert.Contains("rtsp://user:***@", e.Message);
        Assert.DoesNotContain("s3cret", e.ToString());
    }

    [Fact]
    public async Task Snapshot_ReturnsOneFreshFrame_Cheaply()
    {
        var camera = Cameras.For(fixture.Simulator.UrlFor("snap0"), TimeSpan.FromSeconds(1));
        var cpu = IngestMetrics.DecoderCpuSeconds.WithLabels(camera.Id, camera.GroupId);
        var walls = new List<double>();
        var cpus = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            // Each visit on a mount of its own: no visit finds the previous one's session still being torn down.
            var url = fixture.Simulator.UrlFor($"snap{i}");
            var before = DateTimeOffset.UtcNow;
            var cpuBefore = cpu.Value;
            var sw = Stopwatch.StartNew();
            using var frame = await VideoReader.SnapshotAsync(camera.Id, url, SnapshotOptions.For(camera) with { Sequence = 40 + i });
            sw.Stop();
            walls.Add(sw.Elapsed.TotalMilliseconds);
            cpus.Add((cpu.Value - cpuBefore) * 1000);

            Assert.Equal((640, 480, 40L + i, camera.Id), (frame.Width, frame.Height, frame.Sequence, frame.CameraId));
            Assert.InRange(frame.CaptureTime, before, DateTimeOffset.UtcNow); // wall clock of arrival
            Assert.True(frame.Bgr.ToArray().Distinct().Count() > 100, "a real picture, not a blank buffer");
            // ffmpeg is gone the moment the frame is in hand
            Assert.Empty(ChildProcesses.WithCommandLineContaining(url));
        }
        output.WriteLine($"snapshot wall ms: {string.Join(", ", walls.Select(w => w.ToString("0")))}; ffmpeg CPU ms: {string.Join(", ", cpus.Select(c => c.ToString("0")))}");
        // Each visit: ffmpeg's start (~0.1 s), connect, and the wait for the stream's next keyframe (up to its 1 s GOP;
        // back-to-back visits wait nearly all of it), decode, kill: 0.3-1.2 s, more on a busy machine. With ffmpeg's
        // default probing instead of the minimal one, a visit took 5-6 s here.
        Assert.All(walls, w => Assert.True(w < 3000, $"a snapshot took {w:0} ms"));
        Assert.True(cpus.Sum() > 0, "the decoder's CPU time is accounted");
    }

    [Fact]
    public async Task Snapshot_ScaledDown_KeepsTheAspectRatio()
    {
        using var frame = await VideoReader.SnapshotAsync("snap-cam", fixture.Simulator.UrlFor("snap5"), new SnapshotOptions { MaxFrameWidth = 320 });
        Assert.Equal((320, 240), (frame.Width, frame.Height));
    }

    [Fact]
    public async Task Snapshot_OfAWrongMount_IsNotFound()
    {
        var e = await Assert.ThrowsAsync<StreamException>(() =>
            VideoReader.SnapshotAsync("lost-cam", fixture.Simulator.UrlFor("no-such-mount"), new SnapshotOptions()));
        Assert.Equal(StreamFailureKind.NotFound, e.Kind);
        Assert.Contains("404", e.Reason);
    }

    [Fact]
    public async Task Probe_MeasuresTheLiveStream()
    {
        var result = await StreamProbe.ProbeAsync(fixture.Simulator.UrlFor("parking"), TimeSpan.FromSeconds(15));
        output.WriteLine(result.ToString());
        Assert.True(result.Succeeded, result.Failure);
        Assert.Equal(("h264", 640, 480, 20.0, true), (result.Codec, result.Width, result.Height, result.FrameRate, result.IsLive));
        Assert.Equal(3, result.KeyframesSeen);
        // the simulator encodes a keyframe every 20 frames at 20 fps (x264 may place one a frame early after a start)
        Assert.InRange(result.Gop!.Value.TotalSeconds, 0.94, 1.06);
        Assert.InRange(result.GopFrames!.Value, 19, 21);
        Assert.InRange(result.BitRate!.Value, 100_000, 20_000_000);
    }

    [Fact]
    public async Task Probe_Failures_SayWhy_WithoutThePassword()
    {
        var missing = await StreamProbe.ProbeAsync($"rtsp://admin:pr0be-pw@127.0.0.1:{fixture.Simulator.Port}/no-such-mount", TimeSpan.FromSeconds(10));
        Assert.Equal(StreamFailureKind.NotFound, missing.FailureKind);
        Assert.Contains("404", missing.Failure);
        Assert.Equal($"rtsp://admin:***@127.0.0.1:{fixture.Simulator.Port}/no-such-mount", missing.Url);
        Assert.DoesNotContain("pr0be-pw", missing.ToString());
    }

    [Fact]
    public async Task Metrics_StateFramesAgeReadTimeAndDecoderCpu_PerCamera()
    {
        var group = $"grp-{Guid.NewGuid():N}"[..12];
        var camera = Cameras.For(fixture.Simulator.UrlFor("parking"), TimeSpan.FromMilliseconds(500)) with { GroupId = group };
        var source = new CameraSource(camera, new CapturingLogger(), FastRetry with { Decode = DecodeMode.AllFrames });
        var channel = Channel.CreateUnbounded<Frame>();
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(channel.Writer, cts.Token);
        string text;
        try
        {
            for (var i = 0; i < 3; i++) (await StreamWait.ForFrameAsync(channel.Reader, camera.Id, StreamWait.Long)).Dispose();
            text = await MetricsText.ScrapeAsync();
        }
        finally
        {
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
            StreamWait.Drain(channel.Reader);
        }
        (string, string) cam = ("camera", camera.Id), grp = ("group", group);
        Assert.Equal(1, MetricsText.Value(text, "citysight_camera_state", cam, grp, ("state", "streaming")));
        foreach (var other in new[] { "connecting", "offline", "stalled", "disabled", "stopped" })
            Assert.Equal(0, MetricsText.Value(text, "citysight_camera_state", cam, grp, ("state", other)));
        Assert.True(MetricsText.Value(text, "citysight_frames_decoded_total", cam, grp) >= 3);
        Assert.InRange(MetricsText.Value(text, "citysight_camera_last_frame_age_seconds", cam, grp)!.Value, 0, 5);
        Assert.True(MetricsText.Value(text, "citysight_ingest_frame_read_seconds_count", grp) >= 3);

        // After the pass: the decoder's CPU was sampled before ffmpeg was killed; the camera is stopped and has no age.
        var after = await MetricsText.ScrapeAsync();
        Assert.True(MetricsText.Value(after, "citysight_decoder_cpu_seconds_total", cam, grp) > 0);
        Assert.Equal(1, MetricsText.Value(after, "citysight_camera_state", cam, grp, ("state", "stopped")));
        Assert.Null(MetricsText.Value(after, "citysight_camera_last_frame_age_seconds", cam, grp));
        Assert.DoesNotContain("rtsp://", after);
    }
}

/// <summary>
/// A simulator with only a hung mount. Its own process: the GStreamer server blocks its main loop for ~20 s on each
/// DESCRIBE of a mount that never prerolls, which would hold up every other mount of a shared simulator.
/// </summary>
public sealed class StallSimulatorFixture : IAsyncLifetime
{
    public RtspSimulator Simulator { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Simulator = await RtspSimulator.StartAsync(new SimulatorOptions { StallMounts = ["hung"] }, CancellationToken.None);

    public async Task DisposeAsync() => await Simulator.DisposeAsync();
}

/// <summary>A camera that accepts the connection and never sends a frame.</summary>
public sealed class StallTests(StallSimulatorFixture fixture, ITestOutputHelper output) : IClassFixture<StallSimulatorFixture>
{
    private static readonly CameraSourceOptions FastRetry = new()
    {
        InitialBackoff = TimeSpan.FromMilliseconds(200),
        MaxBackoff = TimeSpan.FromSeconds(2),
    };

    [Fact]
    public async Task HungCamera_ReaderReportsStalled()
    {
        var options = new VideoReadOptions { OpenTimeout = TimeSpan.FromSeconds(2) };
        var e = await Assert.ThrowsAsync<StreamException>(async () =>
        {
            await foreach (var f in VideoReader.ReadAsync("hung-cam", fixture.Simulator.UrlFor("hung"), options)) f.Dispose();
        });
        // It accepted the connection, so it is there but hung: stalled, not unreachable.
        Assert.Equal(StreamFailureKind.Stalled, e.Kind);
        Assert.Equal("connected, but no frame within 2 s", e.Reason);
        Assert.Contains("hung-cam", e.Message);
    }

    [Fact]
    public async Task StallMount_CameraIsStalledWithReason_ThenRestartedWithBackoff()
    {
        var url = fixture.Simulator.UrlFor("hung");
        var camera = Cameras.For(url, TimeSpan.FromSeconds(1));
        var source = new CameraSource(camera, new CapturingLogger(), FastRetry with { OpenTimeout = TimeSpan.FromSeconds(2) });
        var channel = Channel.CreateUnbounded<Frame>();
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(channel.Writer, cts.Token);
        try
        {
            var stalled = await StreamWait.ForStatusAsync(source, s => s.State == CameraState.Stalled, StreamWait.Long, "stalled");
            output.WriteLine($"{stalled.State}: {stalled.Reason}, next attempt after {(stalled.NextAttemptAt - stalled.Since)?.TotalMilliseconds:0} ms");
            Assert.Equal("stalled: connected, but no frame within 2 s", stalled.Reason);
            Assert.InRange(stalled.NextAttemptAt!.Value - stalled.Since, TimeSpan.Zero, FastRetry.MaxBackoff * 1.2);

            // ffmpeg is started afresh, and the camera is still stalled afterwards.
            var again = await StreamWait.ForStatusAsync(source, s => s.Reconnects >= 1 && s.State == CameraState.Stalled, StreamWait.Long, "stalled again");
            Assert.Equal(stalled.Reason, again.Reason);
            Assert.True(IngestMetrics.Reconnects.WithLabels(camera.Id, camera.GroupId).Value >= 1);
            Assert.Equal(0, again.FramesDecoded);
        }
        finally
        {
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        }
        Assert.Empty(ChildProcesses.WithCommandLineContaining(url));
    }

    [Fact]
    public async Task Snapshot_OfAHungCamera_TimesOut()
    {
        var sw = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<StreamException>(() =>
            VideoReader.SnapshotAsync("hung-cam", fixture.Simulator.UrlFor("hung"), new SnapshotOptions { Timeout = TimeSpan.FromSeconds(1.5) }));
        Assert.Equal(StreamFailureKind.Timeout, e.Kind);
        Assert.Equal("no frame within 1.5 s", e.Reason);
        Assert.InRange(sw.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(6));
        Assert.Empty(ChildProcesses.WithCommandLineContaining(fixture.Simulator.UrlFor("hung")));
    }

    [Fact]
    public async Task Probe_OfAHungCamera_TimesOut_SayingItConnected()
    {
        var hung = await StreamProbe.ProbeAsync(fixture.Simulator.UrlFor("hung"), TimeSpan.FromSeconds(1.5));
        Assert.Equal(StreamFailureKind.Timeout, hung.FailureKind);
        Assert.Equal("connected, but the stream was not described within 1.5 s", hung.Failure);
    }
}
