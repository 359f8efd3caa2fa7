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
}
