using System.Threading.Channels;
using CitySight.CameraSimulator;
using CitySight.Domain;
using CitySight.Tests;
using Xunit.Abstractions;

namespace CitySight.Ingest.Tests;

/// <summary>One simulator for the RTSP tests that do not kill it: a looping mount and a hung one.</summary>
public sealed class SimulatorFixture : IAsyncLifetime
{
    public RtspSimulator Simulator { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Simulator = await RtspSimulator.StartAsync(new SimulatorOptions
        {
            Mounts = [new SimulatorMount("parking", TestAssets.Media("parking-lot-cctv-640x480.mp4"))],
            StallMounts = ["hung"],
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
        var camera = Cameras.For(url, TimeSpan.FromSeconds(1));
        var logger = new CapturingLogger();
        var source = new CameraSource(camera, logger, FastRetry);
        var channel = Channel.CreateUnbounded<Frame>();
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(channel.Writer, cts.Token);

        var frames = new List<(DateTimeOffset Capture, long Sequence)>();
        var ffmpegPids = new HashSet<int>();
        try
        {
            var first = await Wait.ForFrameAsync(channel.Reader, camera.Id, Wait.Long);
            using (first)
            {
                Assert.Equal(640, first.Width);
                Assert.Equal(480, first.Height);
                frames.Add((first.CaptureTime, first.Sequence));
            }
            Assert.Equal(CameraState.Streaming, source.Status.State);
            Assert.Equal(1, IngestMetrics.CameraUp.WithLabels(camera.Id).Value);

            // The clip is 8.1 s: capture times spanning more than 10 s prove the server loops it.
            while (frames[^1].Capture - frames[0].Capture <= TimeSpan.FromSeconds(10.5))
            {
                using var f = await Wait.ForFrameAsync(channel.Reader, camera.Id, TimeSpan.FromSeconds(15));
                frames.Add((f.CaptureTime, f.Sequence));
                foreach (var pid in ChildProcesses.WithCommandLineContaining(url)) ffmpegPids.Add(pid);
            }
        }
        finally
        {
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
            Wait.Drain(channel.Reader);
        }

        output.WriteLine(string.Join(", ", frames.Select(f => $"#{f.Sequence}@{(f.Capture - frames[0].Capture).TotalSeconds:0.00}")));
        for (var i = 1; i < frames.Count; i++)
        {
            Assert.True(frames[i].Sequence > frames[i - 1].Sequence);
            Assert.True(frames[i].Capture - frames[i - 1].Capture >= TimeSpan.FromMilliseconds(999), "spacing below the interval");
        }

        var status = source.Status;
        Assert.Equal(CameraState.Stopped, status.State);
        // The simulator's GOP is 20 frames at 20 fps = 1 s, equal to the interval: Auto switches to keyframes only.
        Assert.Equal(TimeSpan.FromSeconds(1), status.KeyframeInterval);
        Assert.True(status.KeyframesOnly, "expected the switch to keyframe-only decoding");
        Assert.Equal(0, status.Reconnects); // the planned switch is not a reconnect
        Assert.Equal(status.FramesDecoded, IngestMetrics.FramesDecoded.WithLabels(camera.Id).Value);
        Assert.True(status.FramesDecoded >= frames.Count);
        Assert.Equal(0, IngestMetrics.CameraUp.WithLabels(camera.Id).Value);
        Assert.Contains(logger.Messages, m => m.Contains("switching to keyframe-only", StringComparison.Ordinal));

        // ffmpeg (and ffprobe) for this camera were seen running, and none is left, not even as a zombie.
        Assert.NotEmpty(ffmpegPids);
        Assert.DoesNotContain(ffmpegPids, ChildProcesses.Exists);
        Assert.Empty(ChildProcesses.WithCommandLineContaining(url));
    }

    [Fact]
    public async Task VideoReader_ProbesTheRtspStream()
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
            var offline = await Wait.ForStatusAsync(badSource, s => s.State == CameraState.Offline, Wait.Long, "offline");
            Assert.Contains("not found", offline.Reason, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("404", offline.Reason);

            // It keeps retrying with backoff…
            await Wait.ForStatusAsync(badSource, s => s.Reconnects >= 2, Wait.Long, "retrying");
            // …and the healthy camera is not affected.
            for (var i = 0; i < 2; i++)
                (await Wait.ForFrameAsync(channel.Reader, good.Id, Wait.Long)).Dispose();
            Assert.Equal(CameraState.Streaming, goodSource.Status.State);
            Assert.Equal(0, badSource.Status.FramesDecoded);
            Assert.Equal(0, IngestMetrics.CameraUp.WithLabels(bad.Id).Value);
            Assert.True(IngestMetrics.Reconnects.WithLabels(bad.Id).Value >= 2);
        }
        finally
        {
            await cts.CancelAsync();
            foreach (var r in runs) await Assert.ThrowsAnyAsync<OperationCanceledException>(() => r);
            Wait.Drain(channel.Reader);
        }
        Assert.Contains(logger.Messages, m => m.Contains(bad.Id) && m.Contains("Offline"));
    }

    [Fact]
    public async Task PasswordInTheUrl_NeverAppearsInReasonsLogsOrExceptions()
    {
        var url = $"rtsp://user:s3cret@127.0.0.1:{fixture.Simulator.Port}/nope";
        var camera = Cameras.For(url, TimeSpan.FromSeconds(1));
        var logger = new CapturingLogger();
        var source = new CameraSource(camera, logger, FastRetry);
        var channel = Channel.CreateUnbounded<Frame>();
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(channel.Writer, cts.Token);
        CameraStatus offline;
        try
        {
            offline = await Wait.ForStatusAsync(source, s => s.State == CameraState.Offline, Wait.Long, "offline");
        }
        finally
        {
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        }

        Assert.Contains("not found", offline.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("s3cret", offline.Reason);
        // The logs did name the camera's URL — redacted.
        Assert.Contains(logger.Messages, m => m.Contains("rtsp://user:***@127.0.0.1"));
        Assert.DoesNotContain(logger.Messages, m => m.Contains("s3cret"));

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
    public async Task HungCamera_TimesOut()
    {
        var options = new VideoReadOptions { OpenTimeout = TimeSpan.FromSeconds(2) };
        var e = await Assert.ThrowsAsync<StreamException>(async () =>
        {
            await foreach (var f in VideoReader.ReadAsync("hung-cam", fixture.Simulator.UrlFor("hung"), options)) f.Dispose();
        });
        Assert.Equal(StreamFailureKind.Timeout, e.Kind);
        Assert.Contains("hung-cam", e.Message);
    }
}
