using System.Diagnostics;
using Xunit.Abstractions;

namespace CitySight.CameraSimulator.Tests;

public sealed class ScaleTests(ScaleFixture fixture, ITestOutputHelper output) : IClassFixture<ScaleFixture>
{
    private RtspSimulator Sim => fixture.Simulator;

    private static string Describe(SimulatorStats s) =>
        $"feeds {s.Feeds} [{string.Join(',', s.ActiveMounts)}], sources playing {s.SourcesPlaying}, pushed {s.Pushed}, dropped {s.Dropped}, source frames {s.SourceFrames}, loops {s.Loops}";

    [Fact]
    public async Task ThousandMounts_StartInSeconds_AndFirstMiddleAndLastServeTheClip()
    {
        output.WriteLine($"1002 mounts ready in {fixture.StartTime.TotalSeconds:0.00} s");
        Assert.True(fixture.StartTime < TimeSpan.FromSeconds(10), $"start took {fixture.StartTime}");

        var stats = await Sim.GetStatsAsync();
        Assert.Equal(ScaleFixture.CameraCount + 2, stats.Mounts);
        Assert.Equal(2, stats.Sources); // 1000 mounts of one file read it once

        foreach (var mount in new[] { "cam000", "cam500", "cam999" })
        {
            var watch = Stopwatch.StartNew();
            Assert.Equal(("h264", 640, 360), await Tools.ProbeAsync(Sim.UrlFor(mount)));
            output.WriteLine($"{mount}: probed in {watch.Elapsed.TotalSeconds:0.00} s");
        }
        // Names follow MountsFromFile: there is no cam1000, and a wrong name is a 404, not a hang.
        var missing = await Tools.FfprobeAsync(Sim.UrlFor("cam1000"));
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("404", missing.Stderr);
    }

    [Fact]
    public async Task OnlyMountsWithAClientAreFed_AndNothingRunsOnceTheClientHasGone()
    {
        var idle = await Tools.UntilAsync(() => Sim.GetStatsAsync(), s => s.Feeds == 0 && s.SourcesPlaying == 0,
            TimeSpan.FromSeconds(10), "no mount in use, no file playing");

        // A reader on one mount: that mount, and only it, gets access units; only its file plays.
        using var reader = Process.Start(new ProcessStartInfo("ffmpeg",
            ["-hide_banner", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", Sim.UrlFor("cam123"), "-t", "30", "-f", "null", "-"])
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        _ = reader.StandardError.ReadToEndAsync();
        SimulatorStats busy;
        try
        {
            busy = await Tools.UntilAsync(() => Sim.GetStatsAsync(), s => s.Pushed >= idle.Pushed + 30,
                TimeSpan.FromSeconds(10), "30 access units pushed to the reader's mount");
            Assert.Equal(["cam123"], busy.ActiveMounts);
            Assert.Equal(1, busy.Feeds);
            Assert.Equal(1, busy.SourcesPlaying);
        }
        finally
        {
            reader.Kill(entireProcessTree: true);
            await reader.WaitForExitAsync();
        }
        output.WriteLine($"while reading: {Describe(busy)}");

        // The client is gone: its media is torn down and the file pauses.
        var after = await Tools.UntilAsync(() => Sim.GetStatsAsync(), s => s.Feeds == 0 && s.SourcesPlaying == 0,
            TimeSpan.FromSeconds(10), "mount released, file paused");
        // Then nothing happens: there is no event to wait for, so watch a fixed window (30 frames of the clip).
        await Task.Delay(TimeSpan.FromSeconds(1));
        var later = await Sim.GetStatsAsync();
        output.WriteLine($"after: {Describe(later)}");
        Assert.Equal((after.Pushed, after.SourceFrames), (later.Pushed, later.SourceFrames));
        Assert.Equal(0, later.Feeds);
    }

    [Fact]
    public async Task ManyClientsConnectingAtOnce_DoNotQueueBehindEachOther()
    {
        // DESCRIBE of an idle mount waits for the clip's next keyframe (up to 0.5 s here). Were clients served one
        // at a time (GStreamer's default: one thread for all), 40 of them would queue for about 40 keyframes.
        var watch = Stopwatch.StartNew();
        var replies = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            Tools.DescribeAsync(Sim.UrlFor($"cam{200 + i * 7:000}"), TimeSpan.FromSeconds(30))));
        output.WriteLine($"40 concurrent DESCRIBEs answered in {watch.Elapsed.TotalSeconds:0.00} s");
        Assert.All(replies, r => Assert.Equal("RTSP/1.0 200 OK", r.Status));
        Assert.All(replies, r => Assert.Contains("m=video", r.Body));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(6), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task AClientReadingLongerThanTheClip_GetsContinuousFrames_AcrossTheLoop()
    {
        var before = await Sim.GetStatsAsync();
        var seconds = ScaleFixture.ClipLength.TotalSeconds + 2;
        var (run, frames) = await Tools.ShowInfoAsync(Sim.UrlFor("cam001"), seconds);
        Assert.True(run.ExitCode == 0, run.ToString());
        var after = await Sim.GetStatsAsync();
        output.WriteLine($"{frames.Count} frames, pts {frames[0].PtsTime:0.000} … {frames[^1].PtsTime:0.000}; loops {before.Loops} -> {after.Loops}");

        Assert.True(after.Loops > before.Loops, "the clip was not rewound while we read");
        Assert.True(frames.Count >= seconds * 30 * 0.9, $"only {frames.Count} frames in {seconds} s at 30 fps");
        Assert.True(frames[0].IsKey, "the first frame a client gets is a keyframe");
        Assert.DoesNotContain("error", run.Stderr, StringComparison.OrdinalIgnoreCase);
        // ffmpeg gives the very first RTP packets of a session no timestamp of their own (they are taken as the start;
        // on a loaded machine the second one was once stamped 16 ms before the first): from the third frame on, every
        // presentation time is later than the one before, with no gap at the loop.
        for (var i = 3; i < frames.Count; i++)
        {
            var step = frames[i].PtsTime - frames[i - 1].PtsTime;
            Assert.True(step > 0, $"pts went back or stood still at frame {i}: {frames[i - 1].PtsTime} -> {frames[i].PtsTime}");
            Assert.True(step < 0.2, $"a {step:0.000} s gap at frame {i}");
        }
        Assert.True(frames[^1].PtsTime - frames[1].PtsTime > ScaleFixture.ClipLength.TotalSeconds + 1, "pts did not run past the clip length");
    }

    [Fact]
    public async Task StallMount_AcceptsTheSession_ButNeverSendsAFrame()
    {
        var (status, sdp) = await Tools.DescribeAsync(Sim.UrlFor("hung"), TimeSpan.FromSeconds(10));
        Assert.Equal("RTSP/1.0 200 OK", status);
        Assert.Contains("m=video", sdp);
        Assert.Contains("H264", sdp);

        // ffmpeg connects, sets up and plays, then times out waiting for data (-timeout is its socket timeout).
        var (run, frames) = await Tools.ShowInfoAsync(Sim.UrlFor("hung"), 1, ["-timeout", "2000000"]);
        output.WriteLine(run.ToString());
        Assert.Empty(frames);
        Assert.NotEqual(0, run.ExitCode);
        Assert.DoesNotContain("404", run.Stderr);
        Assert.True(run.Elapsed >= TimeSpan.FromSeconds(1.5), $"ffmpeg gave up after {run.Elapsed}: it was refused, not starved");
    }

    [Fact]
    public async Task ResolutionChangingSource_ReachesTheClientWithBothSizes()
    {
        // 2 s at 640x480 then 2 s at 320x240, looping: 5 s of reading sees both whatever the phase.
        var (run, frames) = await Tools.ShowInfoAsync(Sim.UrlFor("reschange"), 5);
        Assert.True(run.ExitCode == 0, run.ToString());
        var runs = frames.Select(f => (f.Width, f.Height)).Aggregate(new List<((int, int) Size, int Count)>(), (acc, size) =>
        {
            if (acc.Count > 0 && acc[^1].Size == size) acc[^1] = (size, acc[^1].Count + 1);
            else acc.Add((size, 1));
            return acc;
        });
        output.WriteLine(string.Join(" -> ", runs.Select(r => $"{r.Size.Item1}x{r.Size.Item2} ×{r.Count}")));
        Assert.Contains(runs, r => r.Size == (640, 480) && r.Count >= 10);
        Assert.Contains(runs, r => r.Size == (320, 240) && r.Count >= 10);
        Assert.True(runs.Count >= 2);
    }
}
