using System.Threading.Channels;
using CitySight.CameraSimulator;
using CitySight.Domain;
using CitySight.Tests;
using Xunit.Abstractions;

namespace CitySight.Ingest.Tests;

public sealed class FaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ServerKilled_CameraGoesOffline_ThenRecoversWhenTheServerIsBack()
    {
        await using var simulator = await RtspSimulator.StartAsync(new SimulatorOptions
        {
            Mounts = [new SimulatorMount("parking", TestAssets.Media("parking-lot-cctv-640x480.mp4"))],
        }, CancellationToken.None);

        var camera = Cameras.For(simulator.UrlFor("parking"), TimeSpan.FromMilliseconds(500));
        var source = new CameraSource(camera, new CapturingLogger(), new CameraSourceOptions
        {
            InitialBackoff = TimeSpan.FromMilliseconds(200),
            MaxBackoff = TimeSpan.FromSeconds(1),
            // Learning the GOP would switch decode modes mid-test; keep one mode so the test is about faults only.
            Decode = DecodeMode.AllFrames,
        });
        var channel = Channel.CreateUnbounded<Frame>();
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(channel.Writer, cts.Token);
        try
        {
            DateTimeOffset before;
            using (var f = await Wait.ForFrameAsync(channel.Reader, camera.Id, Wait.Long)) before = f.CaptureTime;
            Assert.Equal(CameraState.Streaming, source.Status.State);

            await simulator.StopAsync();
            var down = await Wait.ForStatusAsync(source, s => s.State is CameraState.Offline or CameraState.Connecting && s.Reason is not null,
                Wait.Long, "offline");
            Assert.False(string.IsNullOrWhiteSpace(down.Reason));
            output.WriteLine($"after the kill: {down.State}: {down.Reason}");
            // While the server is gone, reconnects are refused and counted.
            var refused = await Wait.ForStatusAsync(source, s => s.Reconnects >= 1 && s.State == CameraState.Offline, Wait.Long, "retrying");
            Assert.NotEqual(CameraState.Streaming, refused.State);
            output.WriteLine($"while down: {refused.State}: {refused.Reason}");

            Wait.Drain(channel.Reader);
            await simulator.RestartAsync();
            await Wait.ForStatusAsync(source, s => s.State == CameraState.Streaming, Wait.Long, "streaming again");
            using (var after = await Wait.ForFrameAsync(channel.Reader, camera.Id, Wait.Long))
                Assert.True(after.CaptureTime > before);
            Assert.True(source.Status.Reconnects >= 1);
            Assert.True(IngestMetrics.Reconnects.WithLabels(camera.Id).Value >= 1);
        }
        finally
        {
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
            Wait.Drain(channel.Reader);
        }
    }

    [Fact]
    public async Task ServerFrozen_StallIsDetected_ThenStreamingResumes()
    {
        await using var simulator = await RtspSimulator.StartAsync(new SimulatorOptions
        {
            Mounts = [new SimulatorMount("parking", TestAssets.Media("parking-lot-cctv-640x480.mp4"))],
        }, CancellationToken.None);

        var camera = Cameras.For(simulator.UrlFor("parking"), TimeSpan.FromMilliseconds(500));
        var source = new CameraSource(camera, new CapturingLogger(), new CameraSourceOptions
        {
            InitialBackoff = TimeSpan.FromMilliseconds(200),
            MaxBackoff = TimeSpan.FromSeconds(1),
            Decode = DecodeMode.AllFrames,
            StallTimeout = TimeSpan.FromSeconds(2),
            OpenTimeout = TimeSpan.FromSeconds(4),
        });
        var channel = Channel.CreateUnbounded<Frame>();
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(channel.Writer, cts.Token);
        try
        {
            (await Wait.ForFrameAsync(channel.Reader, camera.Id, Wait.Long)).Dispose();

            // The TCP connection stays up but goes silent: only the stall watchdog can notice.
            simulator.Pause();
            var stalled = await Wait.ForStatusAsync(source, s => s.State == CameraState.Offline, Wait.Long, "offline");
            output.WriteLine($"frozen: {stalled.State}: {stalled.Reason}");
            Assert.Contains("stalled", stalled.Reason);
            Assert.StartsWith(StreamException.Describe(StreamFailureKind.Timeout), stalled.Reason);

            simulator.Resume();
            await Wait.ForStatusAsync(source, s => s.State == CameraState.Streaming, Wait.Long, "streaming again");
            Wait.Drain(channel.Reader);
            (await Wait.ForFrameAsync(channel.Reader, camera.Id, Wait.Long)).Dispose();
        }
        finally
        {
            if (!simulator.IsRunning) await simulator.RestartAsync();
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
            Wait.Drain(channel.Reader);
        }
    }

    [Fact]
    public async Task Simulator_ReportsWhyItCannotStart()
    {
        var bogus = Path.Combine(TestAssets.TempDir("sim"), "not-a-video.mp4");
        await File.WriteAllTextAsync(bogus, "this is not a video");
        var e = await Assert.ThrowsAnyAsync<Exception>(() => RtspSimulator.StartAsync(new SimulatorOptions
        {
            Mounts = [new SimulatorMount("bad", bogus)],
        }, CancellationToken.None));
        Assert.Contains("not-a-video", e.Message);
    }
}
