using CitySight.Domain;
using Xunit.Abstractions;

namespace CitySight.Ingest.Tests;

/// <summary>
/// A source that lies to the reader: text it controls (a title, an SDP session name) reaches ffmpeg's stderr, where the
/// reader learns of each frame and its size. Only ffmpeg's own showinfo lines may count as frames.
/// </summary>
public sealed class HostileStreamTests(ITestOutputHelper output)
{
    private const int RealFrames = 10; // 1 s at 10 fps, 160x120

    private static async Task<string> ClipTitledAsync(string title)
    {
        var path = Path.Combine(CitySight.Tests.TestAssets.TempDir("hostile"), "titled.mp4");
        await Ffmpeg.RunAsync("-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "1", "-c:v", "libx264",
            "-preset", "ultrafast", "-g", "5", "-metadata", $"title={title}", path);
        return path;
    }

    [Theory]
    // The finding: a 768 MB buffer for a frame that does not exist.
    [InlineData("[showinfo@out @ 0x1] n:   0 pts:      0 pts_time:0 pos: 48 fmt:bgr24 sar:1/1 s:16000x16000 i:P iskey:1")]
    // Same size as the real frames: nothing looks wrong, but every later frame is the previous one's bytes.
    [InlineData("[showinfo@out @ 0x1] n:   0 pts:   9999 pts_time:9 pos: 48 fmt:bgr24 sar:1/1 s:160x120 i:P iskey:1")]
    // Its own line: ffmpeg indents a title's continuation lines.
    [InlineData("cam\n[showinfo@out @ 0x1] n:   0 pts:   9999 pts_time:9 s:160x120 i:P iskey:1")]
    public async Task CraftedTitle_IsNotAFrame_EveryRealFrameArrivesAtItsOwnTime(string title)
    {
        var path = await ClipTitledAsync(title);
        var options = new VideoReadOptions { SampleInterval = TimeSpan.Zero, RealTime = false, Decode = DecodeMode.AllFrames };
        var start = VideoReader.FileStart(path, null);

        var frames = new List<(int W, int H, TimeSpan At)>();
        await foreach (var f in VideoReader.ReadAsync("hostile-cam", path, options))
        {
            using (f) frames.Add((f.Width, f.Height, f.CaptureTime - start));
        }

        output.WriteLine(string.Join(", ", frames.Select(f => $"{f.W}x{f.H}@{f.At.TotalSeconds:0.0#}")));
        Assert.Equal(Enumerable.Range(0, RealFrames).Select(i => (160, 120, TimeSpan.FromSeconds(i / 10.0))), frames);
    }

    [Fact]
    public async Task ShowInfoLine_FromAnotherInstance_OrNotAtTheStartOfTheLine_IsNoFrame()
    {
        var reader = new ShowInfoReader("rtsp://cam/x", null, "out_1f2e", "all_1f2e");
        // An SDP printed at verbose level puts the camera's text at the start of a line: the instance name it cannot
        // guess is what tells ffmpeg's lines from the camera's.
        var stderr = string.Join('\n',
            "[showinfo@out @ 0x55e4e1a7b0c0] n:   0 pts:      0 pts_time:0 s:16000x16000 i:P iskey:1",
            "s=[showinfo@out_1f2e @ 0x55e4e1a7b0c0] n:   0 pts:      0 pts_time:0 s:16000x16000",
            "    title           : [showinfo@out_1f2e @ 0x1] n:   0 pts:      0 s:16000x16000",
            "[showinfo@out_1f2e @ 0xzz] n:   0 pts:      0 s:16000x16000",
            "[showinfo@out_1f2e @ 0x55e4e1a7b0c0] n:   0 pts:      0 pts_time:0 fmt:bgr24 s:160x120 i:P iskey:1 type:I");
        await reader.RunAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(stderr)));

        var frames = new List<FrameLine>();
        while (await reader.NextFrameAsync() is (true, var f)) frames.Add(f);
        Assert.Equal([new FrameLine(TimeSpan.Zero, 160, 120)], frames);
    }

    [Fact]
    public void EachRun_NamesItsShowInfoFiltersAfresh_AndTheArgumentsUseThem()
    {
        var names = ShowInfoReader.NewInstanceNames();
        Assert.NotEqual(names, ShowInfoReader.NewInstanceNames());
        var options = new VideoReadOptions { OnKeyframeInterval = _ => { } };
        var a = VideoReader.BuildArguments("rtsp://cam/x", live: true, keyframesOnly: false, options, names).Arguments.ToList();
        var filters = a[a.IndexOf("-vf") + 1];
        Assert.Contains($"showinfo@{names.All}=checksum=0", filters);
        Assert.EndsWith($"showinfo@{names.Out}=checksum=0", filters);
    }

    [Theory]
    [InlineData("rtsp://cam/x", true, "rtsp,rtsps,tcp,tls,udp,rtp")]
    [InlineData("rtsps://cam/x", true, "rtsp,rtsps,tcp,tls,udp,rtp")]
    [InlineData("https://cam/x.mjpg", true, "http,https,tcp,tls")]
    [InlineData("/videos/a.mp4", false, "file")]
    public void DecoderInput_IsLimitedInPixelsAndProtocols_BeforeTheInput(string url, bool live, string whitelist)
    {
        var a = VideoReader.BuildArguments(url, live, keyframesOnly: false, new VideoReadOptions()).Arguments.ToList();
        var s = VideoReader.BuildSnapshotArguments(url, live, new SnapshotOptions { MaxFramePixels = 1920 * 1080 }).Arguments.ToList();
        foreach (var args in new[] { a, s })
        {
            Assert.True(args.IndexOf("-max_pixels") is >= 0 and var m && m < args.IndexOf("-i"));
            Assert.Equal(whitelist, args[args.IndexOf("-protocol_whitelist") + 1]);
            Assert.True(args.IndexOf("-protocol_whitelist") < args.IndexOf("-i"));
        }
        Assert.Equal("8294400", a[a.IndexOf("-max_pixels") + 1]); // 4K by default
        Assert.Equal("2073600", s[s.IndexOf("-max_pixels") + 1]);
    }

    [Theory]
    [InlineData(160, 120, 0, 0, 0, true)]
    [InlineData(3840, 2160, 0, 0, 0, true)]
    [InlineData(3840, 2161, 0, 0, 0, false)] // over the 4K default
    [InlineData(16000, 16000, 0, 0, 0, false)]
    [InlineData(0, 120, 0, 0, 0, false)]
    [InlineData(1281, 720, 1280, 0, 0, false)] // ffmpeg was asked for at most 1280 wide
    [InlineData(1280, 721, 1280, 720, 0, false)]
    [InlineData(1280, 720, 1280, 720, 0, true)]
    [InlineData(200, 200, 0, 0, 100 * 100, false)]
    public void AnnouncedSize_MustFitTheBoxAndTheLimit(int w, int h, int maxW, int maxH, long maxPixels, bool fits)
    {
        Assert.Equal(fits, InputLimits.Fits(new FrameLine(null, w, h), maxW, maxH, maxPixels));
    }

    [Fact]
    public async Task StreamLargerThanTheLimit_IsRefusedByTheDecoder_InvalidData()
    {
        var path = await ClipTitledAsync("plain");
        var options = new VideoReadOptions { SampleInterval = TimeSpan.Zero, RealTime = false, MaxFramePixels = 100 * 100 };
        var e = await Assert.ThrowsAsync<StreamException>(async () =>
        {
            await foreach (var f in VideoReader.ReadAsync("big-cam", path, options)) f.Dispose();
        });
        output.WriteLine(e.Message);
        Assert.Equal(StreamFailureKind.InvalidData, e.Kind);
        Assert.Contains("max pixel count", e.Message, StringComparison.Ordinal);

        var snapshot = await Assert.ThrowsAsync<StreamException>(() =>
            VideoReader.SnapshotAsync("big-cam", path, new SnapshotOptions { MaxFramePixels = 100 * 100 }));
        Assert.Equal(StreamFailureKind.InvalidData, snapshot.Kind);
    }

    [Fact]
    public void IngestLimit_ReachesStreamsAndPatrolVisits()
    {
        var ingest = new IngestOptions { MaxFramePixels = 1920 * 1080 };
        Assert.Equal(1920 * 1080, ingest.SourceOptions().MaxFramePixels);
        Assert.Equal(1920 * 1080, ingest.SnapshotOptionsFor(new Camera { Id = "c", Name = "c", GroupId = "g", Url = "rtsp://cam/x" }).MaxFramePixels);
        Assert.Equal(InputLimits.DefaultMaxFramePixels, IngestOptions.Defaults.MaxFramePixels);
    }

    /// <summary>
    /// A camera that answers DESCRIBE with an SDP of its own making, then refuses SETUP. At the verbose level the reader
    /// uses for cameras, ffmpeg prints the SDP raw, one line per line: a line of it can start exactly as ffmpeg's own
    /// showinfo lines do. Returns the address; the server answers one connection.
    /// </summary>
    private static (string Url, Task Served) LyingRtspServer(string sdp)
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var served = Task.Run(async () =>
        {
            try
            {
                using var client = await listener.AcceptTcpClientAsync();
                var stream = client.GetStream();
                using var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
                while (true)
                {
                    var request = new List<string>();
                    while (await reader.ReadLineAsync() is { Length: > 0 } l) request.Add(l);
                    if (request.Count == 0) return;
                    var cseq = request.First(l => l.StartsWith("CSeq", StringComparison.OrdinalIgnoreCase)).Split(':')[1].Trim();
                    var reply = request[0].Split(' ')[0] switch
                    {
                        "OPTIONS" => $"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nPublic: DESCRIBE, SETUP, PLAY\r\n\r\n",
                        "DESCRIBE" => $"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Type: application/sdp\r\nContent-Length: {sdp.Length}\r\n\r\n{sdp}",
                        _ => $"RTSP/1.0 454 Session Not Found\r\nCSeq: {cseq}\r\n\r\n",
                    };
                    await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(reply));
                    if (reply.Contains(" 454 ", StringComparison.Ordinal)) return;
                }
            }
            finally
            {
                listener.Stop();
            }
        });
        return ($"rtsp://127.0.0.1:{port}/cam", served);
    }

    [Fact]
    public async Task SdpLines_PrintedRawByFfmpeg_AreNoFrames()
    {
        const string fake = "[showinfo@out @ 0x1] n:   0 pts:      0 pts_time:0 fmt:bgr24 sar:1/1 s:16000x16000 i:P iskey:1 type:I";
        var sdp = $"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns={fake}\r\n{fake}\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n" +
                  "a=rtpmap:96 H264/90000\r\na=control:track1\r\n";
        var (url, served) = LyingRtspServer(sdp);
        var names = ShowInfoReader.NewInstanceNames();
        var args = VideoReader.BuildArguments(url, live: true, keyframesOnly: false,
            new VideoReadOptions { OpenTimeout = TimeSpan.FromSeconds(5) }, names);
        await using var ffmpeg = FfmpegProcess.Start("ffmpeg", args);
        var reader = new ShowInfoReader(url, null, names.Out, names.All);
        await reader.RunAsync(ffmpeg).WaitAsync(TimeSpan.FromSeconds(20));
        await served.WaitAsync(TimeSpan.FromSeconds(5));

        output.WriteLine(string.Join("\n", reader.Tail()));
        // The SDP did reach stderr with the lookalike at the start of a line (else this test proves nothing) ...
        Assert.Contains(reader.Tail(), l => l.StartsWith("[showinfo@out @ 0x1] n:", StringComparison.Ordinal));
        // ... and no frame came of it.
        Assert.False((await reader.NextFrameAsync()).Available);
    }
}
