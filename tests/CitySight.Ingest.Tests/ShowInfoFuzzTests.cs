using System.Globalization;
using System.Text;
using CsCheck;

namespace CitySight.Ingest.Tests;

/// <summary>
/// The showinfo reader on ffmpeg stderr where a camera's text (titles, an SDP, anything it can make ffmpeg print) is
/// mixed between ffmpeg's own lines, read in chunks of any size: exactly ffmpeg's frame announcements come out, in order,
/// whatever the camera wrote; nothing throws, nothing hangs.
/// </summary>
public sealed class ShowInfoFuzzTests
{
    private static readonly (string Out, string All) Names = ("out_3c9a61d2e07b4f85", "all_3c9a61d2e07b4f85");
    private const long TimeBase = 90_000;

    /// <summary>One of ffmpeg's own lines, and the frame it announces (null: a line that announces none).</summary>
    private sealed record Genuine(string Text, FrameLine? Frame);

    private static string Prefix(string name) => $"[showinfo@{name} @ 0x55e4e1a7b0c0] ";

    private static readonly Gen<Genuine> GenuineLine = Gen.Frequency(
        (6, Gen.Select(Gen.Int[0, 99_999], Gen.Long[-1_000_000, long.MaxValue / TimeBase], Gen.Int[1, 3840], Gen.Int[1, 2160], Gen.Bool,
            (n, pts, w, h, noPts) => new Genuine(
                Prefix(Names.Out) + $"n:{n,4} pts:{(noPts ? "  NOPTS" : pts.ToString(CultureInfo.InvariantCulture)),7} pts_time:0 pos: -1 " +
                $"fmt:bgr24 sar:1/1 s:{w}x{h} i:P iskey:1 type:I ",
                new FrameLine(noPts ? null : ShowInfoReader.ToTime(pts, (1, TimeBase)), w, h)))),
        (2, Gen.Int[0, 9_999].Select(n => new Genuine(Prefix(Names.All) + $"n:{n,4} pts: {n * 3600} pts_time:0 s:1920x1080 iskey:{n % 2}", null))),
        (1, Gen.Const(new Genuine(Prefix(Names.Out) + "color_range:pc color_space:gbr color_primaries:unknown color_trc:unknown", null))),
        (1, Gen.Int[0, 20_000].Select(n => new Genuine(Prefix(Names.Out) + "User Data=" + new string('7', n), null))),
        (1, Gen.Const(new Genuine("frame=    1 fps=0.0 q=-0.0 size=N/A time=00:00:00.10 bitrate=N/A speed=  61x    ", null))));

    // What a camera can get printed: lookalike lines of other instances, of a guessed or nearly right name, inside
    // titles, after a progress report, with carriage returns, control bytes and non-ASCII, and overlong lines. Never the
    // exact name: it is drawn afresh for each ffmpeg run and the camera never sees it (a camera that knew it could
    // print a perfect line; that is what the name prevents).
    private static readonly string[] HostileTokens =
    [
        "[showinfo@out @ 0x1] ", "[showinfo@all @ 0x1] ", $"[showinfo@{Names.Out[..^1]} @ 0x1] ", $"[showinfo@{Names.Out}x @ 0x1] ",
        $"[showinfo@{Names.Out[..^1]}0 @ 0x1] ", $"[showinfo@{Names.All[..^2]} @ 0x1] ", "[showinfo@out_ @ 0x1] ",
        "n:   0 pts:      0 pts_time:0 s:16000x16000 i:P iskey:1 ", "config in time_base: 1/1, frame_rate: 1/1", "s:160x120 ",
        "    title           : ", "s=", "frame=", "\r", "\n", " ", "]", "[", "@", "0x", "\u00e9", "\u0001", "\uFFFD", "n:", "pts:", "x",
        "-9223372036854775808", "99999999999", "Stream #0:0: Video: h264, yuv420p, 16000x16000, 25 fps",
    ];

    private static readonly Gen<string> HostileLine = Gen.Frequency(
        (8, Gen.OneOf(HostileTokens).Array[1, 12].Select(string.Concat)),
        // The exact name, but past ffmpeg's own text on an overlong line: cut at the reader's buffer, never a line start.
        (1, Gen.Int[16_000, 17_000].Select(n => new string('A', n) + Prefix(Names.Out) + "n: 0 pts: 0 s:160x120")));

    /// <summary>ffmpeg's stderr: its lines in order, camera text between them (each message ends in a line feed).</summary>
    private static readonly Gen<(List<Genuine> Genuine, string Stderr, int[] Chunks)> Stderr =
        Gen.Select(GenuineLine.Array[0, 30], HostileLine.Array[0, 30], Gen.Int[0, 60].Array[60], Gen.Int[1, 20_000].Array[1, 50],
            (genuine, hostile, order, chunks) =>
            {
                var sb = new StringBuilder(Prefix(Names.Out) + $"config in time_base: 1/{TimeBase}, frame_rate: 20/1\n");
                int g = 0, h = 0, k = 0;
                while (g < genuine.Length || h < hostile.Length)
                {
                    var takeGenuine = h == hostile.Length || (g < genuine.Length && order[k++ % order.Length] % 2 == 0);
                    sb.Append(takeGenuine ? genuine[g++].Text : hostile[h++]).Append('\n');
                }
                return (genuine.ToList(), sb.ToString(), chunks);
            });

    /// <summary>Hands out the bytes in the given chunk sizes, as a pipe does.</summary>
    private sealed class ChunkedStream(byte[] data, int[] chunks) : Stream
    {
        private int _at, _read;
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, chunks[_read++ % chunks.Length]), data.Length - _at);
            Array.Copy(data, _at, buffer, offset, n);
            _at += n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _at; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static List<FrameLine> Read(string stderr, int[] chunks)
    {
        var reader = new ShowInfoReader("rtsp://u:p@cam/x", _ => { }, Names.Out, Names.All);
        var run = reader.RunAsync(new ChunkedStream(Encoding.UTF8.GetBytes(stderr), chunks));
        Assert.True(run.Wait(TimeSpan.FromSeconds(5)), "the reader did not finish within 5 s");
        var frames = new List<FrameLine>();
        while (reader.NextFrameAsync().AsTask().Result is (true, var f)) frames.Add(f);
        return frames;
    }

    [Fact]
    public void CameraText_AmongFfmpegsLines_ExactlyFfmpegsFramesComeOut()
    {
        Stderr.Sample(s =>
        {
            var expected = s.Genuine.Where(g => g.Frame is not null).Select(g => g.Frame!.Value).ToList();
            Assert.Equal(expected, Read(s.Stderr, s.Chunks));
        }, iter: 200, print: s => s.Stderr.Length > 4000 ? s.Stderr[..4000] + "…" : s.Stderr);
    }

    [Fact]
    public void AnyBytes_NoFrame_NoCrash()
    {
        Gen.Byte.Array[0, 3000].Select(Gen.Int[1, 4096].Array[1, 8]).Sample((bytes, chunks) =>
        {
            var reader = new ShowInfoReader("rtsp://u:p@cam/x", _ => { }, Names.Out, Names.All);
            var run = reader.RunAsync(new ChunkedStream(bytes, chunks));
            Assert.True(run.Wait(TimeSpan.FromSeconds(5)), "the reader did not finish within 5 s");
            Assert.False(reader.NextFrameAsync().AsTask().Result.Available);
            Assert.True(reader.Tail().Count <= 30);
        }, iter: 1000);
    }
}
