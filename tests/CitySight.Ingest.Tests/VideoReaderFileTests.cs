using System.Diagnostics;
using CitySight.Domain;
using CitySight.Tests;
using Xunit.Abstractions;

namespace CitySight.Ingest.Tests;

public sealed class VideoReaderFileTests(ITestOutputHelper output)
{
    private const string Clip = "parking-lot-cctv-640x480.mp4"; // 8.1 s, 20 fps, MPEG-4 Part 2, a keyframe every 0.6 s

    private static async Task<List<DateTimeOffset>> CaptureTimesAsync(string path, VideoReadOptions options)
    {
        var times = new List<DateTimeOffset>();
        await foreach (var f in VideoReader.ReadAsync("file-cam", path, options))
        {
            using (f) times.Add(f.CaptureTime);
        }
        return times;
    }

    [Fact]
    public async Task FastFile_Frames640x480_SpacedByTheInterval_SameCaptureTimesOnEveryRead()
    {
        var path = TestAssets.Media(Clip);
        var options = new VideoReadOptions { SampleInterval = TimeSpan.FromMilliseconds(500), RealTime = false };

        var sw = Stopwatch.StartNew();
        var first = new List<DateTimeOffset>();
        var sequences = new List<long>();
        await foreach (var f in VideoReader.ReadAsync("file-cam", path, options))
        {
            using (f)
            {
                Assert.Equal(640, f.Width);
                Assert.Equal(480, f.Height);
                Assert.Equal("file-cam", f.CameraId);
                Assert.True(f.Buffer.Length >= 640 * 480 * 3);
                first.Add(f.CaptureTime);
                sequences.Add(f.Sequence);
            }
        }
        sw.Stop();
        output.WriteLine($"{first.Count} frames of an 8.1 s clip in {sw.ElapsedMilliseconds} ms");

        // 0, 0.5, … 8.0 s of an 8.1 s clip
        Assert.InRange(first.Count, 16, 17);
        Assert.Equal(Enumerable.Range(0, first.Count).Select(i => (long)i), sequences);
        // The anchor of a file is its last-write time: replays are reproducible.
        Assert.Equal(new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero), first[0]);
        for (var i = 1; i < first.Count; i++)
        {
            var gap = (first[i] - first[i - 1]).TotalSeconds;
            Assert.InRange(gap, 0.499, 0.551); // the interval, or one 20 fps frame more
        }
        // "As fast as it decodes": far quicker than the clip's own 8.1 s.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(6), $"fast mode took {sw.Elapsed}");

        var second = await CaptureTimesAsync(path, options);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Frames_MatchAnIndependentFfmpegDecode()
    {
        var path = TestAssets.Media(Clip);
        var options = new VideoReadOptions { SampleInterval = TimeSpan.FromSeconds(1), RealTime = false, Decode = DecodeMode.AllFrames };
        var anchor = new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);

        byte[]? ours = null;
        await foreach (var f in VideoReader.ReadAsync("file-cam", path, options))
        {
            using (f)
            {
                if (f.CaptureTime - anchor == TimeSpan.FromSeconds(4)) ours = f.Bgr.ToArray();
            }
        }
        Assert.NotNull(ours);

        // Frame 80 (t = 4 s) decoded on its own: the bytes must line up with ours (a misaligned pipe read or a
        // wrong timestamp pairing would not).
        var reference = await DecodeSingleFrameAsync(path, 80);
        Assert.Equal(ours.Length, reference.Length);
        double diff = 0;
        for (var i = 0; i < ours.Length; i++) diff += Math.Abs(ours[i] - reference[i]);
        diff /= ours.Length;
        output.WriteLine($"mean absolute difference to the reference decode: {diff:0.###}");
        Assert.True(diff < 1.0, $"mean difference {diff}");

        // and the picture is not flat (a real image, not a zeroed buffer)
        Assert.True(ours.Distinct().Count() > 100);
    }

    private static async Task<byte[]> DecodeSingleFrameAsync(string path, int frameNumber)
    {
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path, "-vf", $"select=eq(n\\,{frameNumber})",
                     "-frames:v", "1", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        using var ms = new MemoryStream();
        await p.StandardOutput.BaseStream.CopyToAsync(ms);
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, await err);
        return ms.ToArray();
    }

    [Fact]
    public async Task Auto_DecodesKeyframesOnly_WhenTheIntervalCoversTheGop()
    {
        var path = TestAssets.Media(Clip);
        StreamInfo? info = null;
        var options = new VideoReadOptions
        {
            SampleInterval = TimeSpan.FromSeconds(1.2), RealTime = false, OnOpened = i => info = i,
        };
        var times = await CaptureTimesAsync(path, options);

        Assert.NotNull(info);
        Assert.Equal(TimeSpan.FromSeconds(0.6), info.KeyframeInterval);
        Assert.True(info.KeyframesOnly);
        var anchor = times[0];
        // Keyframes sit every 0.6 s: every sample is one of them, 1.2 s apart.
        Assert.Equal(Enumerable.Range(0, 7).Select(i => anchor + TimeSpan.FromSeconds(1.2 * i)), times);
    }

    [Fact]
    public async Task Auto_DecodesAllFrames_WhenTheIntervalIsShorterThanTheGop()
    {
        var path = TestAssets.Media(Clip);
        StreamInfo? info = null;
        var options = new VideoReadOptions
        {
            SampleInterval = TimeSpan.FromMilliseconds(250), RealTime = false, OnOpened = i => info = i,
        };
        var times = await CaptureTimesAsync(path, options);

        Assert.NotNull(info);
        Assert.False(info.KeyframesOnly);
        // 0.25 s steps are not on the 0.6 s keyframe grid: only full decoding can deliver them.
        Assert.Contains(times[0] + TimeSpan.FromSeconds(0.25), times);
        for (var i = 1; i < times.Count; i++)
            Assert.InRange((times[i] - times[i - 1]).TotalSeconds, 0.249, 0.301);
    }

    [Fact]
    public async Task ForcedKeyframesOnly_WithAShortInterval_DeliversOnlyKeyframes()
    {
        var path = TestAssets.Media(Clip);
        var options = new VideoReadOptions
        {
            SampleInterval = TimeSpan.FromMilliseconds(100), RealTime = false, Decode = DecodeMode.KeyframesOnly,
        };
        var times = await CaptureTimesAsync(path, options);
        var anchor = times[0];
        Assert.Equal(14, times.Count); // keyframes at 0, 0.6, … 7.8 s
        Assert.All(times, t => Assert.Equal(0, (t - anchor).Ticks % TimeSpan.FromSeconds(0.6).Ticks));
    }

    [Fact]
    public async Task LoopingFile_CaptureTimesKeepIncreasingPastTheEnd()
    {
        var path = TestAssets.Media(Clip);
        // 1.2 s = two GOPs: keyframes-only, samples on the keyframe grid
        var options = new VideoReadOptions { SampleInterval = TimeSpan.FromSeconds(1.2), RealTime = false, Loop = true };
        var times = new List<DateTimeOffset>();
        await foreach (var f in VideoReader.ReadAsync("loop-cam", path, options))
        {
            using (f) times.Add(f.CaptureTime);
            if (times.Count == 16) break; // a looping file never ends: leaving the loop must stop ffmpeg
        }

        // 1.2 s steps; across the seam (last keyframe 7.8 s, next pass from 8.1 s) one step of up to interval + GOP.
        var gaps = times.Zip(times.Skip(1), (a, b) => (b - a).TotalSeconds).ToList();
        Assert.All(gaps, g => Assert.InRange(g, 1.199, 1.801));
        Assert.Contains(gaps, g => g > 1.201);
        Assert.True(times[^1] - times[0] > TimeSpan.FromSeconds(16.2), "two passes of an 8.1 s clip");
    }

    [Fact]
    public async Task RealTimeFile_PlaysAtItsOwnRate()
    {
        var path = TestAssets.Media(Clip);
        var options = new VideoReadOptions { SampleInterval = TimeSpan.FromMilliseconds(500), RealTime = true };
        var sw = new Stopwatch();
        var count = 0;
        await foreach (var f in VideoReader.ReadAsync("rt-cam", path, options))
        {
            f.Dispose();
            if (count++ == 0) sw.Start();
            if (count == 4) break; // 1.5 s of video after the first frame
        }
        output.WriteLine($"1.5 s of video took {sw.ElapsedMilliseconds} ms in real-time mode");
        Assert.True(sw.Elapsed > TimeSpan.FromSeconds(1.2), $"real-time playback took only {sw.Elapsed}");
    }

    [Fact]
    public async Task MissingFile_ThrowsNotFound_NamingTheCamera()
    {
        var path = Path.Combine(TestAssets.TempDir("ingest"), "absent.mp4");
        var e = await Assert.ThrowsAsync<StreamException>(async () =>
        {
            await foreach (var f in VideoReader.ReadAsync("lost-cam", path, new VideoReadOptions())) f.Dispose();
        });
        Assert.Equal(StreamFailureKind.NotFound, e.Kind);
        Assert.Contains("lost-cam", e.Message);
    }

    [Fact]
    public async Task FileCameraSource_DeliversTheFileOnce_ThenStops()
    {
        var path = TestAssets.Media(Clip);
        var camera = Cameras.For(path, TimeSpan.FromSeconds(1), realTime: false);
        var logger = new CapturingLogger();
        var source = new CameraSource(camera, logger);
        var channel = System.Threading.Channels.Channel.CreateUnbounded<Frame>();

        await source.RunAsync(channel.Writer, CancellationToken.None).WaitAsync(StreamWait.Long);

        var frames = new List<Frame>();
        while (channel.Reader.TryRead(out var f)) frames.Add(f);
        try
        {
            // Auto mode: a 1 s interval covers the 0.6 s GOP, so samples fall on keyframes: 0, 1.2, … 7.2 s.
            Assert.Equal(7, frames.Count);
            Assert.True(source.Status.KeyframesOnly);
            Assert.All(frames.Zip(frames.Skip(1)), p => Assert.Equal(TimeSpan.FromSeconds(1.2), p.Second.CaptureTime - p.First.CaptureTime));
            Assert.Equal(CameraState.Stopped, source.Status.State);
            Assert.Equal("end of file", source.Status.Reason);
            Assert.Equal(frames.Count, source.Status.FramesDecoded);
            Assert.Equal(frames[^1].CaptureTime, source.Status.LastFrameCaptureTime);
            Assert.Equal(frames.Count, IngestMetrics.FramesDecoded.WithLabels(camera.Id, camera.GroupId).Value);
            Assert.Equal(0, IngestMetrics.Reconnects.WithLabels(camera.Id, camera.GroupId).Value);
        }
        finally
        {
            frames.ForEach(f => f.Dispose());
        }
    }
    [Fact]
    public async Task ResolutionChangeMidStream_FramesOfBothSizesArrive_EachExactlyAsDecoded()
    {
        var path = await ResolutionChangeClip.PathAsync();
        var options = new VideoReadOptions { SampleInterval = TimeSpan.Zero, RealTime = false, Decode = DecodeMode.AllFrames };
        var sizes = new List<(int W, int H)>();
        var checkedFrames = new Dictionary<int, byte[]>();
        await foreach (var f in VideoReader.ReadAsync("reschange-cam", path, options))
        {
            using (f)
            {
                if (sizes.Count is 10 or 50) checkedFrames[sizes.Count] = f.Bgr.ToArray();
                sizes.Add((f.Width, f.Height));
            }
        }

        Assert.Equal(Enumerable.Repeat((640, 480), ResolutionChangeClip.FramesPerPart)
            .Concat(Enumerable.Repeat((320, 240), ResolutionChangeClip.FramesPerPart)), sizes);
        // A misaligned pipe read after the change would give garbage; each frame matches its own reference decode.
        // (The reference is the whole clip decoded at once and cut by the known sizes: select's frame counter restarts
        // when ffmpeg rebuilds its filters at the change, so it cannot pick frame 50 on its own.)
        var all = await Ffmpeg.DecodeAllAsync(path);
        Assert.Equal(ResolutionChangeClip.FramesPerPart * (640 * 480 * 3 + 320 * 240 * 3), all.Length);
        foreach (var (n, ours) in checkedFrames)
        {
            var offset = Math.Min(n, ResolutionChangeClip.FramesPerPart) * 640 * 480 * 3 + Math.Max(0, n - ResolutionChangeClip.FramesPerPart) * 320 * 240 * 3;
            var reference = all.AsSpan(offset, ours.Length);
            var diff = Ffmpeg.MeanAbsoluteDifference(ours, reference);
            output.WriteLine($"frame {n}: {ours.Length} bytes, mean difference {diff:0.###}");
            Assert.True(diff < 1.0, $"frame {n}: mean difference {diff}");
        }
    }

    [Fact]
    public async Task ResolutionChange_WithAMaxSize_ScalesTheLargePartOnly()
    {
        var path = await ResolutionChangeClip.PathAsync();
        var options = new VideoReadOptions { SampleInterval = TimeSpan.FromSeconds(1), RealTime = false, MaxFrameWidth = 400, MaxFrameHeight = 400 };
        var sizes = new List<(int W, int H)>();
        await foreach (var f in VideoReader.ReadAsync("reschange-cam", path, options))
        {
            using (f) sizes.Add((f.Width, f.Height));
        }
        // 640x480 fits 400x400 as 400x300; 320x240 is already inside and is not enlarged
        Assert.Equal([(400, 300), (400, 300), (320, 240), (320, 240)], sizes);
    }

    [Theory]
    [InlineData(320, 0, 320, 240)]
    [InlineData(0, 120, 160, 120)]
    [InlineData(1280, 1000, 640, 480)] // never up
    public async Task MaxSize_ScalesInTheDecoder_KeepingTheAspectRatio(int maxW, int maxH, int w, int h)
    {
        var options = new VideoReadOptions { SampleInterval = TimeSpan.FromSeconds(2), RealTime = false, MaxFrameWidth = maxW, MaxFrameHeight = maxH };
        var count = 0;
        await foreach (var f in VideoReader.ReadAsync("scaled-cam", TestAssets.Media(Clip), options))
        {
            using (f) Assert.Equal((w, h), (f.Width, f.Height));
            count++;
        }
        Assert.True(count >= 4);
    }

    [Fact]
    public async Task Snapshot_OfAFile_IsItsFirstKeyframe()
    {
        var path = TestAssets.Media(Clip);
        using var frame = await VideoReader.SnapshotAsync("file-cam", path, new SnapshotOptions());
        Assert.Equal((640, 480), (frame.Width, frame.Height));
        Assert.Equal(new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero), frame.CaptureTime);
        var reference = await Ffmpeg.DecodeFrameAsync(path, 0);
        Assert.True(Ffmpeg.MeanAbsoluteDifference(frame.Bgr, reference) < 1.0);

        var missing = await Assert.ThrowsAsync<StreamException>(() =>
            VideoReader.SnapshotAsync("lost-cam", Path.Combine(TestAssets.TempDir("ingest"), "absent.mp4"), new SnapshotOptions()));
        Assert.Equal(StreamFailureKind.NotFound, missing.Kind);
    }

    [Fact]
    public async Task Probe_OfFiles_CodecSizeRateGopBitrate()
    {
        var parking = await StreamProbe.ProbeAsync(TestAssets.Media(Clip), TimeSpan.FromSeconds(10));
        output.WriteLine(parking.ToString());
        Assert.True(parking.Succeeded, parking.Failure);
        // MPEG-4 Part 2, a keyframe every 12 frames = 0.6 s at 20 fps
        Assert.Equal(("mpeg4", 640, 480, 20.0, false), (parking.Codec, parking.Width, parking.Height, parking.FrameRate, parking.IsLive));
        Assert.Equal(TimeSpan.FromSeconds(0.6), parking.Gop);
        Assert.Equal(12, parking.GopFrames);
        Assert.True(parking.BitRate > 0);

        var highway = await StreamProbe.ProbeAsync(TestAssets.Media("highway-traffic-640x360.mp4"), TimeSpan.FromSeconds(10));
        output.WriteLine(highway.ToString());
        Assert.Equal(("h264", 640, 360, 30.0), (highway.Codec, highway.Width, highway.Height, highway.FrameRate));
        Assert.NotNull(highway.Gop);
        Assert.Equal((int)Math.Round(highway.Gop!.Value.TotalSeconds * 30), highway.GopFrames);

        var missing = await StreamProbe.ProbeAsync("/no/such/file.mp4", TimeSpan.FromSeconds(10));
        Assert.Equal(StreamFailureKind.NotFound, missing.FailureKind);

        var notVideo = Path.Combine(TestAssets.TempDir("probe"), "not-a-video.mp4");
        await File.WriteAllTextAsync(notVideo, "this is not a video");
        var invalid = await StreamProbe.ProbeAsync(notVideo, TimeSpan.FromSeconds(10));
        Assert.Equal(StreamFailureKind.InvalidData, invalid.FailureKind);
    }
}
