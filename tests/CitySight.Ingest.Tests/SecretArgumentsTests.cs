namespace CitySight.Ingest.Tests;

/// <summary>How a URL that carries a secret reaches ffmpeg: on stdin, never in the arguments (<see cref="FfmpegInput"/>).</summary>
public sealed class SecretArgumentsTests
{
    [Theory]
    [InlineData("rtsp://operator:s3cret@cam.example/live", "s3cret")]
    [InlineData("rtsp://cam.example/live?channel=1&token=t0ken", "t0ken")]
    [InlineData("rtsps://operator:s3cret@cam.example:322/live", "s3cret")]
    [InlineData("https://cam.example/video.mjpg?apikey=k3y", "k3y")]
    [InlineData("rtsp://operator@cam.example/live", "operator@")] // what logs hide (RedactUrl) stays off the command line too
    public void SecretUrls_TravelOnStdin_NeverInTheArguments(string url, string secret)
    {
        var commands = new[]
        {
            VideoReader.BuildArguments(url, live: true, keyframesOnly: true, new VideoReadOptions()),
            VideoReader.BuildSnapshotArguments(url, live: true, new SnapshotOptions()),
            StreamProbe.BuildArguments(url, live: true, TimeSpan.FromSeconds(5)),
        };
        var whitelist = InputLimits.ProtocolWhitelist(url, live: true);
        foreach (var c in commands)
        {
            Assert.DoesNotContain(c.Arguments, a => a.Contains(secret, StringComparison.Ordinal));
            var a = c.Arguments.ToList();
            var input = a.IndexOf("-i");
            Assert.Equal(["-f", "concat", "-safe", "0", "-i", "pipe:0"], a.GetRange(input - 4, 6));
            // The outer open may read the script; the camera's own open gets the camera's whitelist only.
            Assert.Equal("pipe," + whitelist, a[a.IndexOf("-protocol_whitelist") + 1]);
            Assert.DoesNotContain("-rtsp_transport", a); // an option of the camera's demuxer: in the script
            Assert.DoesNotContain("-timeout", a);

            var script = c.Stdin!.Split('\n');
            Assert.Equal("ffconcat version 1.0", script[0]);
            Assert.Equal($"file '{url}'", script[1]);
            Assert.Contains($"option protocol_whitelist '{whitelist}'", script);
            Assert.Contains(script, l => l.StartsWith("option timeout '", StringComparison.Ordinal));
            Assert.Equal(url.StartsWith("rtsp", StringComparison.Ordinal), script.Contains("option rtsp_transport 'tcp'"));
        }
        // The reader and the snapshot cut the analysis short on both levels: the camera's demuxer and the concat demuxer.
        foreach (var c in commands[..2])
        {
            Assert.Contains("option probesize '32768'", c.Stdin!.Split('\n'));
            Assert.Equal("32768", c.Arguments[c.Arguments.ToList().IndexOf("-probesize") + 1]);
        }
    }

    [Theory]
    [InlineData("rtsp://cam.example/live?channel=1&subtype=0", true)]
    [InlineData("/videos/a.mp4", false)]
    public void UrlsWithoutSecrets_StayOnTheCommandLine(string url, bool live)
    {
        foreach (var c in new[]
                 {
                     VideoReader.BuildArguments(url, live, keyframesOnly: false, new VideoReadOptions()),
                     VideoReader.BuildSnapshotArguments(url, live, new SnapshotOptions()),
                     StreamProbe.BuildArguments(url, live, TimeSpan.FromSeconds(5)),
                 })
        {
            Assert.Null(c.Stdin);
            var a = c.Arguments.ToList();
            Assert.Equal(url, a[a.IndexOf("-i") + 1]);
            Assert.DoesNotContain("concat", a);
        }
    }

    [Theory]
    [InlineData("rtsp://u:pw@cam/x", "'rtsp://u:pw@cam/x'")]
    [InlineData("rtsp://cam/x?token=it's", @"'rtsp://cam/x?token=it'\''s'")]
    [InlineData("'", @"''\'''")]
    public void ScriptQuoting_KeepsEveryCharacter(string value, string quoted) => Assert.Equal(quoted, FfmpegInput.Quote(value));

    [Theory]
    [InlineData("rtsp://u:pw@cam/x\noption protocol_whitelist file,pipe")]
    [InlineData("rtsp://u:pw@cam/x\r")]
    public async Task AUrlWithALineBreak_IsRefused_BeforeAnythingRuns(string url)
    {
        var ffmpeg = new RecordingFfmpeg();
        var e = await Assert.ThrowsAsync<StreamException>(() =>
            VideoReader.SnapshotAsync("cam-1", url, new SnapshotOptions { FfmpegPath = ffmpeg.Program }));
        Assert.Equal(StreamFailureKind.InvalidData, e.Kind);
        Assert.DoesNotContain("pw", e.Message, StringComparison.Ordinal);
        Assert.False(ffmpeg.Ran);
    }

    [Fact]
    public void ChildEnvironment_KeepsOnlyTheNamedVariables_InTheCLocale()
    {
        var env = new Dictionary<string, string?>
        {
            ["PATH"] = "/usr/bin:/bin",
            ["ConnectionStrings__Cases"] = "Host=db;Password=hunter2",
            ["CITYSIGHT_API_KEY"] = "k3y",
            ["LANG"] = "de_DE.UTF-8",
            ["LIBVA_DRIVER_NAME"] = "iHD",
        };
        ChildEnvironment.Apply(env);
        Assert.Equal(new Dictionary<string, string?> { ["PATH"] = "/usr/bin:/bin", ["LIBVA_DRIVER_NAME"] = "iHD", ["LC_ALL"] = "C" }, env);
    }

    [Fact]
    public void FailuresOfAUrlReadFromStdin_NameTheRedactedUrl_AndKeepTheirKind()
    {
        const string url = "rtsp://operator:s3cret@cam.example/live?token=t0ken";
        var reader = new ShowInfoReader(url, null);
        reader.Handle("[concat @ 0x55d0c0ffee00] Impossible to open 'rtsp://operator:s3cret@cam.example/live?token=t0ken'");
        reader.Handle("pipe:0: Server returned 401 Unauthorized (authorization failed)");
        var (kind, reason) = FfmpegErrors.Classify(reader.Tail());
        Assert.Equal(StreamFailureKind.Unauthorized, kind);
        Assert.Equal("rtsp://operator:***@cam.example/live?token=***: Server returned 401 Unauthorized (authorization failed)", reason);
        Assert.DoesNotContain(reader.Tail(), l => l.Contains("s3cret", StringComparison.Ordinal) || l.Contains("t0ken", StringComparison.Ordinal));
    }
}
