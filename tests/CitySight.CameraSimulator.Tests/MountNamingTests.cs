using System.Diagnostics;
using CitySight.Tests;

namespace CitySight.CameraSimulator.Tests;

public sealed class MountNamingTests
{
    [Theory]
    [InlineData(1, "cam0", "cam0")]
    [InlineData(10, "cam0", "cam9")]
    [InlineData(11, "cam00", "cam10")]
    [InlineData(1000, "cam000", "cam999")]
    [InlineData(1001, "cam0000", "cam1000")]
    public void MountsFromFile_ZeroPadsToTheWidthOfTheLastIndex(int count, string first, string last)
    {
        var mounts = SimulatorOptions.MountsFromFile("cam", count, "/videos/a.mp4");
        Assert.Equal(count, mounts.Count);
        Assert.Equal(first, mounts[0].Name);
        Assert.Equal(last, mounts[^1].Name);
        Assert.Equal(count, mounts.Select(m => m.Name).Distinct().Count());
        Assert.All(mounts, m => Assert.Equal("/videos/a.mp4", m.VideoPath));
    }

    [Fact]
    public async Task DuplicateNames_AreRefusedBeforeAnythingStarts()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => RtspSimulator.StartAsync(new SimulatorOptions
        {
            Mounts = [.. SimulatorOptions.MountsFromFile("cam", 3, "/nonexistent.mp4"), new SimulatorMount("cam1", "/nonexistent.mp4")],
        }));
        Assert.Contains("cam1", e.Message);
    }

    [Fact]
    public async Task ScriptOption_MountsPerFile_NamesMountsLikeMountsFromFile()
    {
        // The script's own option, for people who run it by hand: `--mounts-per-file cam:11=FILE`.
        var clip = await H264Cache.EnsureH264Async(TestAssets.Media("highway-traffic-640x360.mp4"), Tools.CacheDir,
            new H264EncodeOptions { Duration = TimeSpan.FromSeconds(3), KeyframeInterval = 15 });
        var script = Path.Combine(AppContext.BaseDirectory, "rtsp_simulator.py");
        using var p = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-u", script, "--port", "0", "--mounts-per-file", $"cam:11={clip}"])
        {
            RedirectStandardInput = true, // its EOF stops the server
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var ready = await p.StandardOutput.ReadLineAsync(cts.Token);
            if (ready?.StartsWith("READY ", StringComparison.Ordinal) != true)
                Assert.Fail($"got {ready}: {await p.StandardError.ReadToEndAsync(cts.Token)}");
            var port = ready![6..];
            var names = SimulatorOptions.MountsFromFile("cam", 11, clip).Select(m => m.Name).ToList();
            foreach (var name in new[] { names[0], names[^1] })
            {
                var (status, _) = await Tools.DescribeAsync($"rtsp://127.0.0.1:{port}/{name}", TimeSpan.FromSeconds(10));
                Assert.Equal("RTSP/1.0 200 OK", status);
            }
            var (missing, _) = await Tools.DescribeAsync($"rtsp://127.0.0.1:{port}/cam11", TimeSpan.FromSeconds(10));
            Assert.Equal("RTSP/1.0 404 Not Found", missing);
        }
        finally
        {
            p.StandardInput.Close();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try { await p.WaitForExitAsync(exit.Token); }
            catch (OperationCanceledException) { p.Kill(entireProcessTree: true); }
        }
        Assert.Equal(0, p.ExitCode);
    }
}
