using CitySight.Tests;

namespace CitySight.CameraSimulator.Tests;

public sealed class AuthTests
{
    [Fact]
    public async Task WithCredentials_AnonymousAndWrongPasswordsGet401_TheRightOnesStream()
    {
        var clip = await H264Cache.EnsureH264Async(TestAssets.Media("highway-traffic-640x360.mp4"), Tools.CacheDir,
            new H264EncodeOptions { Duration = TimeSpan.FromSeconds(3), KeyframeInterval = 15 });
        // A password that needs escaping in a URL (':' '@' '/').
        var credentials = new SimulatorCredentials("operator", "p@ss:w/rd");
        await using var sim = await RtspSimulator.StartAsync(new SimulatorOptions
        {
            Mounts = SimulatorOptions.MountsFromFile("cam", 3, clip),
            Credentials = credentials,
            CacheDir = Tools.CacheDir,
        });

        var url = sim.UrlFor("cam1");
        var withCredentials = sim.UrlFor("cam1", withCredentials: true);
        Assert.StartsWith("rtsp://operator:p%40ss%3Aw%2Frd@127.0.0.1:", withCredentials);
        Assert.DoesNotContain("p@ss", credentials.ToString());

        var anonymous = await Tools.FfprobeAsync(url);
        Assert.NotEqual(0, anonymous.ExitCode);
        Assert.Contains("401", anonymous.Stderr);

        var wrong = await Tools.FfprobeAsync(url.Replace("rtsp://", "rtsp://operator:guess@", StringComparison.Ordinal));
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Contains("401", wrong.Stderr);

        Assert.Equal(("h264", 640, 360), await Tools.ProbeAsync(withCredentials));
    }
}
