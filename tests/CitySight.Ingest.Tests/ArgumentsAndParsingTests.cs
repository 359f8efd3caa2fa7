using CitySight.Tests;
using System.Text;
using CitySight.Domain;

namespace CitySight.Ingest.Tests;

/// <summary>
/// The pure parts added for 1000+ cameras: decoder and scale arguments, stderr parsing (frame sizes, stream description,
/// connection), failure kinds, /proc CPU time, the probe's packet log, stall timeouts. Lines are as ffmpeg 5.1 prints them.
/// </summary>
public sealed class ArgumentsAndParsingTests
{
    [Fact]
    public void DecoderArguments_Cpu_NothingOrThreads()
    {
        Assert.Empty(DecoderArguments.For(DecoderKind.Cpu));
        Assert.Equal(["-threads", "2"], DecoderArguments.For(DecoderKind.Cpu, threads: 2));
        // a device or codec means nothing to the software decoder
        Assert.Empty(DecoderArguments.For(DecoderKind.Cpu, codec: "h264", device: "/dev/dri/renderD129"));
    }

    [Fact]
    public void DecoderArguments_Cuda_HwaccelOnly_FramesComeBackToSystemMemory()
    {
        Assert.Equal(["-hwaccel", "cuda"], DecoderArguments.For(DecoderKind.Cuda, threads: 4, codec: "h264"));
        Assert.Equal(["-hwaccel", "cuda", "-hwaccel_device", "1"], DecoderArguments.For(DecoderKind.Cuda, device: "1"));
        Assert.DoesNotContain("-hwaccel_output_format", DecoderArguments.For(DecoderKind.Cuda));
    }

    [Fact]
    public void DecoderArguments_Vaapi_DefaultAndConfiguredRenderNode()
    {
        Assert.Equal(["-hwaccel", "vaapi", "-hwaccel_device", "/dev/dri/renderD128"], DecoderArguments.For(DecoderKind.Vaapi));
        Assert.Equal(["-hwaccel", "vaapi", "-hwaccel_device", "/dev/dri/renderD129"],
            DecoderArguments.For(DecoderKind.Vaapi, device: "/dev/dri/renderD129"));
    }

    [Theory]
    [InlineData("h264", "h264_qsv")]
    [InlineData("hevc", "hevc_qsv")]
    [InlineData("HEVC", "hevc_qsv")]
    public void DecoderArguments_Qsv_NamesItsDecoderWhenTheCodecIsKnown(string codec, string decoder)
    {
        Assert.Equal(["-hwaccel", "qsv", "-c:v", decoder], DecoderArguments.For(DecoderKind.Qsv, codec: codec));
    }

    [Fact]
    public void DecoderArguments_Qsv_UnknownOrOtherCodec_LeavesTheDecoderToFfmpeg()
    {
        Assert.Equal(["-hwaccel", "qsv"], DecoderArguments.For(DecoderKind.Qsv));
        Assert.Equal(["-hwaccel", "qsv"], DecoderArguments.For(DecoderKind.Qsv, codec: "mpeg4"));
        Assert.Equal(["-hwaccel", "qsv", "-qsv_device", "/dev/dri/renderD129", "-c:v", "h264_qsv"],
            DecoderArguments.For(DecoderKind.Qsv, codec: "h264", device: "/dev/dri/renderD129"));
    }

    [Fact]
    public void ReaderArguments_PutTheDecoderBeforeTheInput_AndKeepEachFramesSize()
    {
        var options = new VideoReadOptions { Decoder = DecoderKind.Vaapi, MaxFrameWidth = 1280, SampleInterval = TimeSpan.FromSeconds(1) };
        var a = VideoReader.BuildArguments("rtsp://cam/x", live: true, keyframesOnly: true, options).Arguments.ToList();
        var input = a.IndexOf("-i");
        Assert.True(a.IndexOf("-hwaccel") is >= 0 and var h && h < input, "decoder options must precede -i");
        Assert.True(a.IndexOf("-skip_frame") < input);
        Assert.Equal("tcp", a[a.IndexOf("-rtsp_transport") + 1]);
        Assert.Equal("0", a[a.IndexOf("-autoscale") + 1]); // else ffmpeg squashes a new resolution into the first one
        var filters = a[a.IndexOf("-vf") + 1];
        // sampled first, then scaled, converted, and announced last (its size is the size on the pipe)
        Assert.Matches(@"^select=.*,scale=w='min\(iw,1280\)':h=ih:force_original_aspect_ratio=decrease,format=bgr24,showinfo@out=checksum=0$", filters);

        var plain = VideoReader.BuildArguments("/videos/a.mp4", live: false, keyframesOnly: false, new VideoReadOptions()).Arguments;
        Assert.DoesNotContain(plain, x => x.StartsWith("scale", StringComparison.Ordinal) || x.Contains(",scale", StringComparison.Ordinal));
        Assert.DoesNotContain("-hwaccel", plain);
        Assert.DoesNotContain("-rtsp_transport", plain);
    }

    [Fact]
    public void SnapshotArguments_MinimalProbe_KeyframesOnly_OneFrame()
    {
        var a = VideoReader.BuildSnapshotArguments("rtsp://cam/x", live: true,
            new SnapshotOptions { Decoder = DecoderKind.Qsv, Codec = "hevc", MaxFrameHeight = 720 }).Arguments.ToList();
        var input = a.IndexOf("-i");
        Assert.Equal("32768", a[a.IndexOf("-probesize") + 1]);
        Assert.Equal("0", a[a.IndexOf("-analyzeduration") + 1]);
        Assert.Equal("nokey", a[a.IndexOf("-skip_frame") + 1]);
        Assert.True(a.IndexOf("-skip_frame") < input && a.IndexOf("-hwaccel") < input);
        Assert.Equal("hevc_qsv", a[a.IndexOf("-c:v") + 1]);
        Assert.Equal("1", a[a.IndexOf("-frames:v") + 1]);
        Assert.Contains("scale=w=iw:h='min(ih,720)':force_original_aspect_ratio=decrease", a[a.IndexOf("-vf") + 1]);
    }

    [Theory]
    [InlineData(0, 0, null)]
    [InlineData(1280, 0, "scale=w='min(iw,1280)':h=ih:force_original_aspect_ratio=decrease")]
    [InlineData(1280, 720, "scale=w='min(iw,1280)':h='min(ih,720)':force_original_aspect_ratio=decrease")]
    public void ScaleFilter_FitsIntoTheBox_NeverUp(int w, int h, string? expected)
    {
        Assert.Equal(expected, VideoReader.ScaleFilter(w, h));
    }

    [Fact]
    public async Task ShowInfo_FrameSizeFollowsEachOutputLine_AcrossAResolutionChange()
    {
        var reader = new ShowInfoReader("in.h264", null);
        reader.Handle("[showinfo@out @ 0x1] config in time_base: 1/1200000, frame_rate: 20/1");
        reader.Handle("[showinfo@out @ 0x1] n:   0 pts:      0 pts_time:0       pos:       -1 fmt:bgr24 sar:1/1 s:1920x1080 i:P iskey:1 type:I ");
        // the stream changed resolution: ffmpeg rebuilds the graph and says so
        reader.Handle("[showinfo@out @ 0x2] config in time_base: 1/1200000, frame_rate: 20/1");
        reader.Handle("[showinfo@out @ 0x2] n:   0 pts:  60000 pts_time:0.05    pos:       -1 fmt:bgr24 sar:1/1 s:1280x720 i:P iskey:1 type:I ");
        Assert.Equal((true, new FrameLine(TimeSpan.Zero, 1920, 1080)), await reader.NextFrameAsync());
        Assert.Equal((true, new FrameLine(TimeSpan.FromMilliseconds(50), 1280, 720)), await reader.NextFrameAsync());
        Assert.Equal(1280 * 720 * 3, new FrameLine(null, 1280, 720).Bytes);
    }

    [Fact]
    public void ShowInfo_DescribesTheInputStream_NotTheOutput_AndNoticesTheConnection()
    {
        var reader = new ShowInfoReader("rtsp://u:s3cret@cam/x", null);
        Assert.False(reader.Connected);
        reader.Handle("[tcp @ 0x55950e06c8c0] Starting connection attempt to 10.0.0.9 port 554");
        Assert.False(reader.Connected);
        reader.Handle("[tcp @ 0x55950e06c8c0] Successfully connected to 10.0.0.9 port 554");
        Assert.True(reader.Connected);

        reader.Handle("Input #0, rtsp, from 'rtsp://u:s3cret@cam/x':");
        reader.Handle("  Duration: N/A, start: 0.050000, bitrate: N/A");
        reader.Handle("  Stream #0:0: Video: h264 (High), yuvj420p(pc, bt709, progressive), 1920x1080, 25 fps, 25 tbr, 90k tbn");
        reader.Handle("Stream mapping:");
        reader.Handle("Output #0, rawvideo, to 'pipe:1':");
        reader.Handle("  Stream #0:0: Video: rawvideo (BGR[24] / 0x18524742), bgr24(pc, gbr/bt709/bt709, progressive), 1280x720, q=2-31, 20 fps");
        Assert.Equal(new InputVideo("h264", 1920, 1080, 25, null), reader.Input);
        Assert.DoesNotContain(reader.Tail(), l => l.Contains("s3cret"));
    }

    [Theory]
    [InlineData("  Stream #0:0[0x1](und): Video: h264 (Main) (avc1 / 0x31637661), yuv420p(progressive), 640x360 [SAR 1:1 DAR 16:9], 450 kb/s, 30 fps, 30 tbr, 30k tbn (default)",
        "h264", 640, 360, 30.0, 450_000L)]
    // minimal probing leaves out fps: tbr stands in
    [InlineData("  Stream #0:0: Video: h264 (Constrained Baseline), yuv420p(tv, smpte170m, progressive), 640x480 [SAR 1:1 DAR 4:3], 20 tbr, 90k tbn",
        "h264", 640, 480, 20.0, null)]
    [InlineData("  Stream #0:0: Video: hevc (Main), yuv420p(tv), 2560x1440, 29.97 fps, 29.97 tbr, 90k tbn", "hevc", 2560, 1440, 29.97, null)]
    // size not known yet (no SPS in the SDP, nothing received)
    [InlineData("  Stream #0:0: Video: h264, none, 90k tbr, 90k tbn", "h264", 0, 0, 90_000.0, null)]
    public void InputVideo_ParsesFfmpegsStreamLine(string line, string codec, int w, int h, double fps, long? bitRate)
    {
        Assert.Equal(new InputVideo(codec, w, h, fps, bitRate), InputVideo.TryParse(line));
    }

    [Fact]
    public async Task ShowInfo_SplitsRawStderr_CrLf_LongLines_AndAStreamThatEndsMidLine()
    {
        var text = new StringBuilder()
            .Append("Input #0, h264, from 'x':\r\n")
            .Append("  Stream #0:0: Video: h264, yuv420p, 640x480, 20 fps, 20 tbr, 1200k tbn\n")
            .Append("[showinfo@out @ 0x1] config in time_base: 1/20, frame_rate: 20/1\n")
            .Append("[showinfo@out @ 0x1] n:   0 pts:      1 pts_time:0.05 pos: -1 fmt:bgr24 sar:1/1 s:640x480 i:P iskey:1 type:I \n")
            // showinfo's hex dump of SEI user data: longer than the reader's buffer, and must not break the next lines
            .Append("[showinfo@out @ 0x1] User Data=").Append('a', 40_000).Append('\n')
            .Append("[showinfo@out @ 0x1] n:   1 pts:      2 pts_time:0.1 pos: -1 fmt:bgr24 sar:1/1 s:320x240 i:P iskey:0 type:P \r")
            .Append("something went wrong")
            .ToString();
        var reader = new ShowInfoReader("x", null);
        await reader.RunAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)));

        Assert.Equal((true, new FrameLine(TimeSpan.FromSeconds(0.05), 640, 480)), await reader.NextFrameAsync());
        Assert.Equal((true, new FrameLine(TimeSpan.FromSeconds(0.1), 320, 240)), await reader.NextFrameAsync());
        Assert.False((await reader.NextFrameAsync()).Available); // stderr ended: no more frames
        Assert.Equal("something went wrong", reader.Tail()[^1]);
        Assert.Equal(new InputVideo("h264", 640, 480, 20, null), reader.Input);
    }

    [Theory]
    [InlineData("[tcp @ 0x5578d5c1f580] Failed to resolve hostname no-such-host.invalid: Name or service not known", StreamFailureKind.UnknownHost)]
    [InlineData("[tcp @ 0x5578d5c1f580] Failed to resolve hostname cam-17.district.lan: Temporary failure in name resolution", StreamFailureKind.UnknownHost)]
    [InlineData("[rtsp @ 0x55f910fee240] method DESCRIBE failed: 403 Forbidden", StreamFailureKind.Unauthorized)]
    [InlineData("Stream map '0:v:0' matches no streams.", StreamFailureKind.NoVideo)]
    public void FfmpegErrors_ClassifiesNewKinds(string line, StreamFailureKind kind)
    {
        // ffmpeg's last line is often a generic one; the telling line comes before it
        var (k, reason) = FfmpegErrors.Classify([line, "rtsp://no-such-host.invalid/x: Input/output error"]);
        Assert.Equal(kind, k);
        Assert.DoesNotContain("0x5578", reason);
    }

    [Fact]
    public void ProcStat_UserPlusSystemTime_WithSpacesInTheCommandName()
    {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
        const string stat = "4242 (ff mpeg) S 1 4242 4242 0 -1 4194304 1200 0 0 0 250 50 0 0 20 0 3 0 12345 1000000 500 18446744073709551615";
        Assert.Equal(TimeSpan.FromSeconds(3), ProcStat.Parse(stat, 100));
        Assert.Null(ProcStat.Parse("garbage", 100));
    }

    [Fact]
    public void ProbePacketLog_MeasuresGopFramesAndBitrate_FromFramecrcLines()
    {
        var log = new StreamProbe.PacketLog();
        log.Add("#tb 0: 1/90000");
        log.Add("#media_type 0: video");
        // 20 fps (4500 ticks), a keyframe every 25 frames; the stream starts mid-GOP with two P frames.
        for (var n = 0; n < 62; n++)
        {
            var key = n >= 2 && (n - 2) % 25 == 0;
            log.Add($"0, {n * 4500,10}, {n * 4500,10}, 4500, {(key ? 20000 : 5000),8}, 0xab18bf1d{(key ? "" : ", F=0x0")}");
        }
        Assert.Equal(3, log.Keyframes);
        Assert.Equal(TimeSpan.FromSeconds(1.25), log.WidestKeyframeGap);
        Assert.Equal(25, log.PacketsInWidestGap);
        Assert.Equal(20.0, log.MeasuredFrameRate);
        // per GOP: 20000 + 24 × 5000 bytes over 1.25 s
        Assert.Equal((20000 + 24 * 5000) * 8 / 1.25, log.MeasuredBitRate!.Value, 0);
    }

    [Fact]
    public void StallTimeout_AtLeast10s_Else3TimesTheSlowerOfIntervalAndGop()
    {
        var o = new VideoReadOptions { SampleInterval = TimeSpan.FromSeconds(1) };
        Assert.Equal(TimeSpan.FromSeconds(10), o.StallTimeoutFor(null));
        Assert.Equal(TimeSpan.FromSeconds(10), o.StallTimeoutFor(TimeSpan.FromSeconds(2)));
        Assert.Equal(TimeSpan.FromSeconds(24), o.StallTimeoutFor(TimeSpan.FromSeconds(8)));
        Assert.Equal(TimeSpan.FromSeconds(15), (o with { SampleInterval = TimeSpan.FromSeconds(5) }).StallTimeoutFor(TimeSpan.FromSeconds(2)));
        Assert.Equal(TimeSpan.FromSeconds(2), (o with { StallTimeout = TimeSpan.FromSeconds(2) }).StallTimeoutFor(TimeSpan.FromSeconds(8)));
    }

    [Fact]
    public void VideoReadOptions_ForACamera_TakesItsDecoderAndGroup()
    {
        var camera = Cameras.For("rtsp://cam/x", TimeSpan.FromSeconds(2)) with { Decoder = DecoderKind.Cuda, GroupId = "east-7" };
        var o = VideoReadOptions.For(camera);
        Assert.Equal((DecoderKind.Cuda, "east-7", TimeSpan.FromSeconds(2)), (o.Decoder, o.GroupId, o.SampleInterval));
        Assert.Equal(DecoderKind.Cuda, SnapshotOptions.For(camera).Decoder);
    }

    [Fact]
    public void CameraStatus_Helpers()
    {
        var now = new DateTimeOffset(2026, 1, 1, 8, 0, 0, TimeSpan.Zero);
        var s = new CameraStatus { CameraId = "c", LastFrameAt = now.AddSeconds(-4), NextAttemptAt = now.AddSeconds(30) };
        Assert.Equal(TimeSpan.FromSeconds(4), s.LastFrameAge(now));
        Assert.Equal(TimeSpan.FromSeconds(30), s.UntilNextAttempt(now));
        Assert.Equal(TimeSpan.Zero, s.UntilNextAttempt(now.AddMinutes(1)));
        Assert.Null(new CameraStatus { CameraId = "c" }.LastFrameAge(now));
    }

    [Fact]
    public void Backoff_NormalDoublesTo30sWithJitter_SlowStartsAt30sAndCapsAt10Min()
    {
        var source = new CameraSource(Cameras.For("rtsp://cam/x", TimeSpan.FromSeconds(1)), new CapturingLogger());
        for (var n = 1; n <= 12; n++)
        {
            var normal = Math.Min(30, Math.Pow(2, n - 1));
            var slow = Math.Min(600, 30 * Math.Pow(2, n - 1));
            for (var i = 0; i < 200; i++)
            {
                Assert.InRange(source.Backoff(n).TotalSeconds, normal * 0.8, normal * 1.2);
                // never sooner than the configured slow wait: jitter only lengthens it
                Assert.InRange(source.SlowBackoff(n).TotalSeconds, slow, slow * 1.4);
            }
        }
    }

    [Theory]
    [InlineData("0.600000,K_", 0.6)]
    [InlineData("12.040000,K__", 12.04)]
    [InlineData("0.650000,__", null)]
    [InlineData("N/A,K_", null)]
    [InlineData("", null)]
    public void FileGopProbe_ReadsKeyframeTimes_FromFfprobesCsv(string line, double? seconds) =>
        Assert.Equal(seconds is { } s ? TimeSpan.FromSeconds(s) : null, FileGopProbe.ParseKeyframe(line));

    [Theory]
    [InlineData("ffmpeg", "ffprobe")]
    [InlineData("/opt/ffmpeg/bin/ffmpeg", "/opt/ffmpeg/bin/ffprobe")]
    public void FileGopProbe_RunsTheFfprobeBesideTheConfiguredFfmpeg(string ffmpeg, string ffprobe) =>
        Assert.Equal(ffprobe, FileGopProbe.ProbePath(ffmpeg));
}
