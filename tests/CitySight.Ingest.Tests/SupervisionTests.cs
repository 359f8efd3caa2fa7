using CitySight.Tests;
using System.Threading.Channels;
using CitySight.Domain;
using Xunit.Abstractions;

namespace CitySight.Ingest.Tests;

/// <summary>Failures that need no video server: disabled cameras, unknown hosts, wrong credentials (a real 401 from a tiny RTSP responder).</summary>
public sealed class SupervisionTests(ITestOutputHelper output)
{
    [Fact]
    public async Task DisabledCamera_IsDisabled_AndNeverStartsFfmpeg()
    {
        var ffmpeg = new RecordingFfmpeg();
        var options = new CameraSourceOptions { FfmpegPath = ffmpeg.Program, InitialBackoff = TimeSpan.FromSeconds(30) };
        var camera = Cameras.For("rtsp://127.0.0.1:9/disabled", TimeSpan.FromSeconds(1)) with { Enabled = false };
        var source = new CameraSource(camera, new CapturingLogger(), options);
        Assert.Equal(CameraState.Disabled, source.Status.State); // visible as such before anything runs

        var channel = Channel.CreateUnbounded<Frame>();
        await source.RunAsync(channel.Writer, CancellationToken.None).WaitAsync(StreamWait.Long);
        Assert.Equal(CameraState.Disabled, source.Status.State);
        Assert.Null(source.Status.NextAttemptAt);
        Assert.False(ffmpeg.Ran);
        var text = await MetricsText.ScrapeAsync();
        Assert.Equal(1, MetricsText.Value(text, "citysight_camera_state", ("camera", camera.Id), ("state", "disabled")));
        Assert.Equal(0, MetricsText.Value(text, "citysight_camera_state", ("camera", camera.Id), ("state", "connecting")));

        // The same program for an enabled camera does get run: the check above could have failed.
        var enabled = new CameraSource(camera with { Id = camera.Id + "-on", Enabled = true }, new CapturingLogger(), options);
        using var cts = new CancellationTokenSource();
        var run = enabled.RunAsync(channel.Writer, cts.Token);
        var offline = await StreamWait.ForStatusAsync(enabled, s => s.State == CameraState.Offline, StreamWait.Long, "offline");
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(ffmpeg.Ran);
        Assert.Contains("fake ffmpeg", offline.Reason);
    }

    [Fact]
    public async Task UnknownHost_IsRetriedSlowly()
    {
        var camera = Cameras.For("rtsp://no-such-host.invalid/x", TimeSpan.FromSeconds(1));
        var source = new CameraSource(camera, new CapturingLogger()); // default backoffs: slow class starts at 30 s
        var offline = await StreamWait.UntilOfflineAsync(source);
        output.WriteLine($"{offline.Reason}; next attempt in {(offline.NextAttemptAt - offline.Since)?.TotalSeconds:0.0} s");
        Assert.Equal(StreamFailureKind.UnknownHost, offline.LastFailure);
        Assert.StartsWith("unknown host: ", offline.Reason);
        Assert.Contains("no-such-host.invalid", offline.Reason);
        // Not the normal 1 s: a typo in a host name does not fix itself in a second.
        Assert.NotNull(offline.NextAttemptAt);
        Assert.True(offline.NextAttemptAt!.Value - offline.Since >= TimeSpan.FromSeconds(30), $"next attempt at {offline.NextAttemptAt}, since {offline.Since}");
        Assert.True(offline.NextAttemptAt!.Value - offline.Since <= TimeSpan.FromSeconds(30 * 1.4 + 1));
        Assert.Equal(0, offline.Reconnects);
        Assert.Equal(CameraState.Stopped, source.Status.State);
    }

    [Fact]
    public async Task WrongPassword_IsUnauthorized_RetriedSlowly_AndThePasswordNeverLeaks()
    {
        await using var server = new Rtsp401Server();
        const string password = "s3cret-Pa55";
        var url = $"rtsp://operator:{password}@127.0.0.1:{server.Port}/cam";
        var camera = Cameras.For(url, TimeSpan.FromSeconds(1));
        var logger = new CapturingLogger();
        var source = new CameraSource(camera, logger);
        var offline = await StreamWait.UntilOfflineAsync(source);
        output.WriteLine($"{offline.Reason}; next attempt in {(offline.NextAttemptAt - offline.Since)?.TotalSeconds:0.0} s");
        Assert.True(server.AuthorizationHeaders >= 1, "ffmpeg should have offered the URL's credentials");
        Assert.Equal(StreamFailureKind.Unauthorized, offline.LastFailure);
        Assert.Contains("401", offline.Reason);
        Assert.True(offline.NextAttemptAt!.Value - offline.Since >= TimeSpan.FromSeconds(30));

        // A patrol visit and a probe of the same camera fail the same way.
        var e = await Assert.ThrowsAsync<StreamException>(() => VideoReader.SnapshotAsync(camera.Id, url, new SnapshotOptions()));
        Assert.Equal(StreamFailureKind.Unauthorized, e.Kind);
        var probe = await StreamProbe.ProbeAsync(url, TimeSpan.FromSeconds(10));
        Assert.Equal(StreamFailureKind.Unauthorized, probe.FailureKind);

        // Nowhere: status, logs, exceptions, probe results, metrics.
        Assert.DoesNotContain(password, offline.ToString());
        Assert.DoesNotContain(password, source.Status.ToString());
        Assert.DoesNotContain(logger.Lines, m => m.Contains(password));
        Assert.Contains(logger.Lines, m => m.Contains("rtsp://operator:***@127.0.0.1"));
        Assert.DoesNotContain(password, e.ToString());
        Assert.DoesNotContain(password, probe.ToString());
        var metrics = await MetricsText.ScrapeAsync();
        Assert.DoesNotContain(password, metrics);
        Assert.DoesNotContain("rtsp://", metrics);
    }
}
