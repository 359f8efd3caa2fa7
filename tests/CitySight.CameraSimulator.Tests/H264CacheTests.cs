using CitySight.Tests;

namespace CitySight.CameraSimulator.Tests;

public sealed class H264CacheTests
{
    [Fact]
    public async Task Benchmark1080pOption_ScalesToFullHd_WithATwoSecondGop_AndIsCached()
    {
        // The benchmark preset on 2.1 s of the clip (keyframes at frames 0 and 60 at 30 fps): a fresh temp
        // cache, so the encoder really runs.
        var cache = TestAssets.TempDir("h264-1080p");
        var options = H264EncodeOptions.Benchmark1080p with { Duration = TimeSpan.FromSeconds(2.1) };
        var source = TestAssets.Media("highway-traffic-640x360.mp4");
        var path = await H264Cache.EnsureH264Async(source, cache, options);
        Assert.StartsWith(cache, path);

        var stream = await Tools.FfprobeAsync(path, "-select_streams", "v:0", "-show_entries",
            "stream=codec_name,width,height,has_b_frames,r_frame_rate", "-of", "compact=p=0");
        Assert.Equal("codec_name=h264|width=1920|height=1080|has_b_frames=0|r_frame_rate=30/1", stream.Stdout.Trim());

        var packets = await Tools.FfprobeAsync(path, "-select_streams", "v:0", "-show_entries", "packet=flags", "-of", "csv=p=0");
        var keyframes = packets.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select((flags, i) => (flags, i)).Where(p => p.flags.StartsWith('K')).Select(p => p.i).ToList();
        Assert.Equal([0, 60], keyframes);

        // Asked again: the cached file, not a new encode.
        var written = File.GetLastWriteTimeUtc(path);
        Assert.Equal(path, await H264Cache.EnsureH264Async(source, cache, options));
        Assert.Equal(written, File.GetLastWriteTimeUtc(path));
        Assert.Single(Directory.GetFiles(cache));
    }

    [Fact]
    public async Task ResolutionChange_IsOneStream_ThatDecodesAtBothSizes()
    {
        var path = await H264Cache.EnsureResolutionChangeAsync(TestAssets.Media("parking-lot-cctv-640x480.mp4"), Tools.CacheDir,
            new ResolutionChangeOptions { PartDuration = TimeSpan.FromSeconds(2), KeyframeInterval = 10 });

        var streams = await Tools.FfprobeAsync(path, "-show_entries", "stream=index,codec_name,width,height", "-of", "compact=p=0");
        Assert.Equal("index=0|codec_name=h264|width=640|height=480", streams.Stdout.Trim());

        var (run, frames) = await Tools.ShowInfoAsync(path, 10);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(40, frames.Count(f => (f.Width, f.Height) == (640, 480)));
        Assert.Equal(40, frames.Count(f => (f.Width, f.Height) == (320, 240)));
        Assert.True(frames.TakeWhile(f => f.Width == 640).Count() == 40, "the first half is 640x480, then 320x240");
    }

    [Fact]
    public async Task SimulatorSources_AreH264WithoutBFrames_PassedThroughWhenTheyAlreadyAre()
    {
        var cache = TestAssets.TempDir("h264-pass");
        // The parking clip is MPEG-4 Part 2: transcoded, with the asked GOP and no B-frames.
        var parking = await H264Cache.EnsureH264Async(TestAssets.Media("parking-lot-cctv-640x480.mp4"), cache, 20);
        Assert.StartsWith(cache, parking);
        var probe = await Tools.FfprobeAsync(parking, "-select_streams", "v:0", "-show_entries", "stream=codec_name,has_b_frames", "-of", "compact=p=0");
        Assert.Equal("codec_name=h264|has_b_frames=0", probe.Stdout.Trim());

        // An H.264 MP4 without B-frames (our own transcode, or the highway clip) is served as it is.
        Assert.Equal(parking, await H264Cache.EnsureH264Async(parking, cache, 20));
        var highway = TestAssets.Media("highway-traffic-640x360.mp4");
        Assert.Equal(highway, await H264Cache.EnsureH264Async(highway, cache, 20));
        Assert.Single(Directory.GetFiles(cache));

        // With B-frames it is not: the simulator stamps frames as they arrive, so they must come in presentation order.
        var withB = Path.Combine(cache, "with-b-frames.mp4");
        var made = await Tools.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-t", "1", "-i", highway, "-an",
            "-c:v", "libx264", "-preset", "ultrafast", "-bf", "2", "-g", "10", withB], TimeSpan.FromSeconds(60));
        Assert.True(made.ExitCode == 0, made.ToString());
        var fixedUp = await H264Cache.EnsureH264Async(withB, cache, 20);
        Assert.NotEqual(withB, fixedUp);
        probe = await Tools.FfprobeAsync(fixedUp, "-select_streams", "v:0", "-show_entries", "stream=has_b_frames", "-of", "csv=p=0");
        Assert.Equal("0", probe.Stdout.Trim());
    }
}
