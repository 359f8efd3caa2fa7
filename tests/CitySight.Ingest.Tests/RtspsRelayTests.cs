using CitySight.CameraSimulator;
using CitySight.Tests;
using Xunit.Abstractions;

namespace CitySight.Ingest.Tests;

/// <summary>
/// rtsps cameras verified against a configured CA (<see cref="RtspsRelay"/>): ffmpeg 5.1 alone cannot, so it reads them
/// through a local relay that does.
/// </summary>
public sealed class RtspsRelayTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("rtsps://cam.example/live", "", "cam.example", 322, "/live")]
    [InlineData("rtsps://op:p%40ss@cam.example:8322/live?token=t", "op:p%40ss@", "cam.example", 8322, "/live?token=t")]
    [InlineData("rtsps://[fd00::7]:555?x=1", "", "fd00::7", 555, "?x=1")]
    [InlineData("rtsps://u:pw@10.0.0.7", "u:pw@", "10.0.0.7", 322, "")]
    public void CameraUrls_AreSplit_IntoWhatTheRelayNeeds(string url, string userInfo, string host, int port, string rest)
    {
        Assert.True(RtspsRelay.TrySplit(url, out var u, out var h, out var p, out var r));
        Assert.Equal((userInfo, host, port, rest), (u, h, p, r));
    }

    [Theory]
    [InlineData("rtsps://u:pw@/live")]
    [InlineData("rtsps://cam.example:99999/live")]
    public void UrlsWithoutAUsableHost_AreRefused(string url) => Assert.False(RtspsRelay.TrySplit(url, out _, out _, out _, out _));

    [Fact]
    public async Task TheRelay_PassesATrustedCamera_AndRefusesAnotherAuthoritysCertificate_AsUnauthorized()
    {
        const string password = "Rtsps-s3cret";
        using var certs = new TestCertificates(TestAssets.TempDir("rtsps-certs"));
        var untrusted = new TestCertificates(Path.Combine(certs.Folder, "other"), "Some other CA");
        await using var simulator = await RtspSimulator.StartAsync(new SimulatorOptions
        {
            Mounts = [new SimulatorMount("gate", TestAssets.Media("parking-lot-cctv-640x480.mp4"))],
            Credentials = new SimulatorCredentials("operator", password),
        }, CancellationToken.None);
        await using var camera = new TlsFront(certs.Issue("localhost", server: true), simulator.Port);
        var url = $"rtsps://operator:{password}@localhost:{camera.Port}/gate";

        // Streamed: the first frame comes through the verified connection.
        StreamInfo? opened = null;
        var options = new VideoReadOptions { RtspsCaFile = certs.CaFile, OnOpened = i => opened = i };
        await foreach (var f in VideoReader.ReadAsync("tls-cam", url, options))
        {
            using (f) Assert.Equal((640, 480), (f.Width, f.Height));
            break;
        }
        Assert.Equal("h264", opened?.Codec);

        // Probed through it too.
        var probe = await StreamProbe.ProbeAsync(url, TimeSpan.FromSeconds(15), rtspsCaFile: certs.CaFile);
        Assert.True(probe.Succeeded, probe.Failure);
        var forwarded = camera.Forwarded;
        Assert.True(forwarded >= 2, $"{forwarded} connections forwarded");

        // Another authority's CA: refused before a byte of RTSP passes, reported as such, retried slowly.
        var e = await Assert.ThrowsAsync<StreamException>(() =>
            VideoReader.SnapshotAsync("tls-cam", url, new SnapshotOptions { RtspsCaFile = untrusted.CaFile, Timeout = TimeSpan.FromSeconds(10) }));
        output.WriteLine(e.Message);
        Assert.Equal(StreamFailureKind.Unauthorized, e.Kind);
        Assert.StartsWith("the camera's certificate is not trusted", e.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(password, e.Message, StringComparison.Ordinal);
        Assert.Equal(forwarded, camera.Forwarded);
        untrusted.Dispose();
    }

    [Fact]
    public async Task ACameraTheRelayCannotReach_IsRefusedOrTimedOut_NotConnected()
    {
        using var certs = new TestCertificates(TestAssets.TempDir("rtsps-certs"));
        // Nothing listens: refused, as ffmpeg would have said itself (it only saw the relay close).
        using var free = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        free.Start();
        var closedPort = ((System.Net.IPEndPoint)free.LocalEndpoint).Port;
        free.Stop();
        var refused = await Assert.ThrowsAsync<StreamException>(() => VideoReader.SnapshotAsync("tls-cam",
            $"rtsps://u:pw@127.0.0.1:{closedPort}/x", new SnapshotOptions { RtspsCaFile = certs.CaFile }));
        Assert.Equal(StreamFailureKind.ConnectionRefused, refused.Kind);

        // Accepts TCP and never answers the handshake: ffmpeg reached the relay, but the camera was never reached.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var options = new VideoReadOptions { RtspsCaFile = certs.CaFile, OpenTimeout = TimeSpan.FromSeconds(2) };
        var e = await Assert.ThrowsAsync<StreamException>(async () =>
        {
            await foreach (var f in VideoReader.ReadAsync("tls-cam", $"rtsps://u:pw@127.0.0.1:{((System.Net.IPEndPoint)silent.LocalEndpoint).Port}/x", options))
                f.Dispose();
        });
        output.WriteLine(e.Message);
        Assert.Equal((StreamFailureKind.Timeout, "no answer within 2 s"), (e.Kind, e.Reason));
    }
}
