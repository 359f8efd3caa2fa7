// Tests that need the reworked simulator's new features: basic auth (SimulatorOptions.Credentials) and a source whose
// resolution changes mid-stream (H264Cache.EnsureResolutionChangeAsync). They are compiled only when switched on in
// CitySight.Ingest.Tests.csproj (CITYSIGHT_SIM_AUTH, CITYSIGHT_SIM_RESCHANGE), so that this project keeps building while
// that API settles. Without them the same behaviour is covered by Rtsp401Server (SupervisionTests) and
// ResolutionChangeClip (VideoReaderFileTests).
#if CITYSIGHT_SIM_AUTH || CITYSIGHT_SIM_RESCHANGE
using System.Threading.Channels;
using CitySight.CameraSimulator;
using CitySight.Domain;
using CitySight.Tests;
using Xunit.Abstractions;

namespace CitySight.Ingest.Tests;

public sealed class SimulatorFeatureTests(ITestOutputHelper output)
{
#if CITYSIGHT_SIM_AUTH
    [Fact]
    public async Task BasicAuth_RightPasswordStreams_WrongOneIsUnauthorizedAndRetriedSlowly_NeverLeaked()
    {
        const string password = "Sim-s3cret";
        await using var simulator = await RtspSimulator.StartAsync(new SimulatorOptions
        {
            Mounts = [new SimulatorMount("gate", TestAssets.Media("parking-lot-cctv-640x480.mp4"))],
            Credentials = new SimulatorCredentials("operator", password),
        }, CancellationToken.None);

        var good = Cameras.For(simulator.UrlFor("gate", withCredentials: true), TimeSpan.FromSeconds(1));
        var wrongUrl = good.Url.Replace(password, "not-" + password, StringComparison.Ordinal);
        var wrong = Cameras.For(wrongUrl, TimeSpan.FromSeconds(1));
        var logger = new CapturingLogger();
        var sources = new[] { new CameraSource(good, logger), new CameraSource(wrong, logger) };
        var channel = Channel.CreateUnbounded<Frame>();
        using var cts = new CancellationTokenSource();
        var runs = sources.Select(s => s.RunAsync(channel.Writer, cts.Token)).ToArray();
        CameraStatus refused;
        try
        {
            (await StreamWait.ForFrameAsync(channel.Reader, good.Id, StreamWait.Long)).Dispose();
            refused = await StreamWait.ForStatusAsync(sources[1], s => s.State == CameraState.Offline, StreamWait.Long, "offline");
        }
        finally
        {
            await cts.CancelAsync();
            foreach (var r in runs) await Assert.ThrowsAnyAsync<OperationCanceledException>(() => r);
            StreamWait.Drain(channel.Reader);
        }
        output.WriteLine(refused.Reason);
        Assert.Equal(StreamFailureKind.Unauthorized, refused.LastFailure);
        Assert.True(refused.NextAttemptAt!.Value - refused.Since >= TimeSpan.FromSeconds(30));

        using (var snap = await VideoReader.SnapshotAsync(good.Id, good.Url, new SnapshotOptions()))
            Assert.Equal((640, 480), (snap.Width, snap.Height));
        var e = await Assert.ThrowsAsync<StreamException>(() => VideoReader.SnapshotAsync(wrong.Id, wrongUrl, new SnapshotOptions()));
        Assert.Equal(StreamFailureKind.Unauthorized, e.Kind);

        Assert.DoesNotContain(logger.Lines, m => m.Contains(password));
        Assert.DoesNotContain(password, refused.ToString());
        Assert.DoesNotContain(password, e.ToString());
        Assert.DoesNotContain(password, await MetricsText.ScrapeAsync());
    }
#endif

#if CITYSIGHT_SIM_RESCHANGE
    [Fact]
    public async Task LiveResolutionChange_FramesOfBothSizesArrive()
    {
        var source = TestAssets.Media("parking-lot-cctv-640x480.mp4");
        var clip = await H264Cache.EnsureResolutionChangeAsync(source, Path.Combine(Path.GetTempPath(), "citysight-simulator-cache"),
            new ResolutionChangeOptions { PartDuration = TimeSpan.FromSeconds(2) });
        await using var simulator = await RtspSimulator.StartAsync(new SimulatorOptions
        {
            Mounts = [new SimulatorMount("zoom", clip)],
        }, CancellationToken.None);

        var sizes = new HashSet<(int, int)>();
        using var cts = new CancellationTokenSource(StreamWait.Long);
        var options = new VideoReadOptions { SampleInterval = TimeSpan.FromMilliseconds(500), Decode = DecodeMode.AllFrames };
        await foreach (var f in VideoReader.ReadAsync("zoom-cam", simulator.UrlFor("zoom"), options, cts.Token))
        {
            using (f)
            {
                Assert.True(f.Buffer.Length >= f.Width * f.Height * 3);
                sizes.Add((f.Width, f.Height));
            }
            if (sizes.Count == 2) break;
        }
        Assert.Equal([(640, 480), (320, 240)], sizes.OrderByDescending(s => s.Item1));
    }
#endif
}
#endif
