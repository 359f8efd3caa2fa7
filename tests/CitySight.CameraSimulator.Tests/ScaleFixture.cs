using System.Diagnostics;
using CitySight.Tests;

namespace CitySight.CameraSimulator.Tests;

/// <summary>
/// One simulator for the scale tests: 1000 mounts of a 3 s clip (cam000 … cam999), a resolution-changing mount and
/// a stall mount. Sources are prepared before the clock starts: the start time measured is the server's own.
/// </summary>
public sealed class ScaleFixture : IAsyncLifetime
{
    public const int CameraCount = 1000;
    public static readonly TimeSpan ClipLength = TimeSpan.FromSeconds(3);

    public RtspSimulator Simulator { get; private set; } = null!;
    public TimeSpan StartTime { get; private set; }
    public string ShortClip { get; private set; } = null!;
    public string ResolutionChange { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // 3 s of the highway clip at its native 30 fps, a keyframe every 0.5 s: short enough to loop within a test.
        ShortClip = await H264Cache.EnsureH264Async(TestAssets.Media("highway-traffic-640x360.mp4"), Tools.CacheDir,
            new H264EncodeOptions { Duration = ClipLength, KeyframeInterval = 15 });
        ResolutionChange = await H264Cache.EnsureResolutionChangeAsync(TestAssets.Media("parking-lot-cctv-640x480.mp4"), Tools.CacheDir,
            new ResolutionChangeOptions { PartDuration = TimeSpan.FromSeconds(2), KeyframeInterval = 10 });

        var watch = Stopwatch.StartNew();
        Simulator = await RtspSimulator.StartAsync(new SimulatorOptions
        {
            Mounts = [.. SimulatorOptions.MountsFromFile("cam", CameraCount, ShortClip), new SimulatorMount("reschange", ResolutionChange)],
            StallMounts = ["hung"],
            CacheDir = Tools.CacheDir,
            StartTimeout = TimeSpan.FromSeconds(20),
        });
        StartTime = watch.Elapsed;
    }

    public async Task DisposeAsync()
    {
        if (Simulator is not null) await Simulator.DisposeAsync();
    }
}
