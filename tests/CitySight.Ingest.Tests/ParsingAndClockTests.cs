namespace CitySight.Ingest.Tests;

/// <summary>The pure parts: capture-time rules and ffmpeg's stderr, with lines as ffmpeg 5.1 prints them.</summary>
public sealed class ParsingAndClockTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void LiveClock_BufferedBurst_NeverStampsAFrameLaterThanItArrived()
    {
        var clock = new CaptureClock(live: true, default, TimeSpan.FromSeconds(1));
        // ffmpeg buffered 3 s while connecting: frames with pts 0..3 s arrive together.
        var burst = Enumerable.Range(0, 4).Select(i => clock.Next(TimeSpan.FromSeconds(i), T0)).ToList();
        Assert.All(burst, t => Assert.True(t <= T0 + CaptureClock.ArrivalTolerance));
        // Afterwards frames arrive in real time; the anchor learnt from the burst places them where they belong.
        var next = clock.Next(TimeSpan.FromSeconds(4), T0 + TimeSpan.FromSeconds(1));
        Assert.Equal(T0 + TimeSpan.FromSeconds(1), next);
        // Arrival jitter within the tolerance does not bend the stream's own spacing.
        var jittered = clock.Next(TimeSpan.FromSeconds(5), T0 + TimeSpan.FromSeconds(1.8));
        Assert.Equal(TimeSpan.FromSeconds(1), jittered - next);
    }

    [Fact]
    public void LiveClock_SlowConsumer_DoesNotStretchCaptureTimes()
    {
        var clock = new CaptureClock(live: true, default, TimeSpan.FromSeconds(1));
        var first = clock.Next(TimeSpan.Zero, T0);
        // read 10 s late (backpressure): the picture was still taken 1 s after the first
        Assert.Equal(first + TimeSpan.FromSeconds(1), clock.Next(TimeSpan.FromSeconds(1), T0 + TimeSpan.FromSeconds(11)));
    }

    [Fact]
    public void Clock_TimestampsJumpBack_StaysMonotonic()
    {
        var clock = new CaptureClock(live: false, T0, TimeSpan.FromSeconds(1));
        Assert.Equal(T0, clock.Next(TimeSpan.FromSeconds(100), T0));
        var before = clock.Next(TimeSpan.FromSeconds(101), T0);
        var after = clock.Next(TimeSpan.FromSeconds(3), T0); // camera restarted its clock
        Assert.Equal(before + TimeSpan.FromSeconds(1), after);
        Assert.Equal(after + TimeSpan.FromSeconds(1), clock.Next(TimeSpan.FromSeconds(4), T0));
    }

    [Fact]
    public async Task ShowInfo_PairsOutputLinesWithFrames_UsingTheExactTimeBase()
    {
        var reader = new ShowInfoReader("rtsp://u:s3cret@cam/x", null);
        string[] lines =
        [
            "Input #0, rtsp, from 'rtsp://u:s3cret@cam/x':",
            "[showinfo@out @ 0x557de0e05380] config in time_base: 1/90000, frame_rate: 20/1",
            "[showinfo@out @ 0x557de0e05380] n:   0 pts:      0 pts_time:0       pos:       -1 fmt:bgr24 sar:1/1 s:640x480 i:P iskey:1 type:I ",
            "[showinfo@out @ 0x557de0e05380] color_range:pc color_space:gbr color_primaries:unknown color_trc:unknown",
            // pts_time is printed with 6 significant digits only; the integer pts is exact
            "[showinfo@out @ 0x557de0e05380] n:   1 pts:1111111111 pts_time:12345.7 pos:       -1 fmt:bgr24 sar:1/1 s:640x480 i:P iskey:0 type:P ",
            "[showinfo@out @ 0x557de0e05380] n:   2 pts:  NOPTS pts_time:NOPTS   pos:       -1 fmt:bgr24 sar:1/1 s:640x480 i:P iskey:0 type:P ",
            "[rtsp @ 0x55f910fee240] method DESCRIBE failed: 404 Not Found",
        ];
        foreach (var l in lines) reader.Handle(l);

        Assert.Equal((true, new FrameLine(TimeSpan.Zero, 640, 480)), await reader.NextFrameAsync());
        // 1111111111 / 90000 s = 12345.6790111 s
        Assert.Equal((true, new FrameLine(TimeSpan.FromTicks(123_456_790_111), 640, 480)), await reader.NextFrameAsync());
        Assert.Equal((true, new FrameLine(null, 640, 480)), await reader.NextFrameAsync());

        var tail = reader.Tail();
        Assert.Equal(2, tail.Count); // showinfo's own lines are not kept as diagnostics
        Assert.DoesNotContain(tail, l => l.Contains("s3cret"));
        Assert.Equal((StreamFailureKind.NotFound, "method DESCRIBE failed: 404 Not Found"), FfmpegErrors.Classify(tail));
    }

    [Fact]
    public async Task ShowInfo_LineSharedWithAProgressReport_IsStillCounted()
    {
        var reader = new ShowInfoReader("in.mp4", null);
        reader.Handle("frame=    1 fps=0.0 q=0.0 size=       0kB time=00:00:00.00 bitrate=N/A speed=   0x    [showinfo@out @ 0x5621dd2095c0] n:   1 pts:  10240 pts_time:1 pos: 300799 fmt:bgr24 sar:1/1 s:320x240 i:P iskey:1 type:I");
        var next = reader.NextFrameAsync();
        Assert.True(next.IsCompleted);
        Assert.Equal(new FrameLine(TimeSpan.FromSeconds(10240), 320, 240), (await next).Frame);
    }

    [Fact]
    public void ShowInfo_MeasuresTheGopFromKeyframes_AndReportsOnlyChanges()
    {
        var reported = new List<TimeSpan>();
        var reader = new ShowInfoReader("in.mp4", reported.Add);
        reader.Handle("[showinfo@all @ 0x1] config in time_base: 1/90000, frame_rate: 20/1");
        void Frame(int n, bool key) => reader.Handle($"[showinfo@all @ 0x1] n:{n,4} pts:{n * 4500,7} pts_time:{n * 0.05} pos: -1 fmt:yuv420p sar:1/1 s:640x480 i:P iskey:{(key ? 1 : 0)} type:{(key ? 'I' : 'P')}");
        for (var n = 0; n <= 100; n++) Frame(n, n % 20 == 0);   // keyframes every 1 s
        for (var n = 101; n <= 300; n++) Frame(n, n % 40 == 0);  // the camera moves to 2 s
        // the widest recent gap, reported once per real change
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], reported);
    }

    [Theory]
    [InlineData("rtsp://127.0.0.1:1/x: Connection refused", StreamFailureKind.ConnectionRefused)]
    [InlineData("rtsp://cam/x: Server returned 401 Unauthorized (authorization failed)", StreamFailureKind.Unauthorized)]
    [InlineData("[tcp @ 0x5646] Connection to tcp://10.0.0.9:554?timeout=0 failed: Connection timed out", StreamFailureKind.Timeout)]
    [InlineData("rtsp://cam/x: Invalid data found when processing input", StreamFailureKind.InvalidData)]
    [InlineData("something nobody expected", StreamFailureKind.Unknown)]
    public void FfmpegErrors_ClassifiesTheTellingLine(string line, StreamFailureKind kind)
    {
        var (k, reason) = FfmpegErrors.Classify(["Input #0, rtsp, from 'x':", line]);
        Assert.Equal(kind, k);
        Assert.DoesNotContain("0x5646", reason);
    }
}
