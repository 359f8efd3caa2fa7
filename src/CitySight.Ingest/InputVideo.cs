using System.Globalization;
using System.Text.RegularExpressions;

namespace CitySight.Ingest;

/// <summary>
/// A source's video stream as ffmpeg describes it when it opens the input, e.g.
/// <c>Stream #0:0: Video: h264 (Main), yuv420p(progressive), 1920x1080 [SAR 1:1 DAR 16:9], 4096 kb/s, 25 fps, 25 tbr, 90k tbn</c>.
/// Reading this line costs nothing extra: ffmpeg prints it anyway, where ffprobe would be a second connection (~1.7 s per camera).
/// </summary>
/// <param name="Width">0 when ffmpeg could not tell yet (the first frame still has its size).</param>
/// <param name="FrameRate">fps, else tbr; 0 when not stated (minimal probing leaves it out).</param>
/// <param name="BitRate">bit/s when stated.</param>
internal sealed partial record InputVideo(string Codec, int Width, int Height, double FrameRate, long? BitRate)
{
    [GeneratedRegex(@"^\s*Stream #\d+:\d+\S*: Video: (?<codec>[A-Za-z0-9_]+)")]
    private static partial Regex VideoLine();

    // ", 640x480 [" or ", 640x480," or at the end: the picture size (and not a fourcc such as 0x31637661).
    [GeneratedRegex(@", (?<w>\d+)x(?<h>\d+)(?=[ ,]|$)")]
    private static partial Regex Size();

    [GeneratedRegex(@", (?<v>\d+(?:\.\d+)?)(?<k>k?) (?<unit>fps|tbr)\b")]
    private static partial Regex Rate();

    [GeneratedRegex(@", (?<v>\d+) kb/s")]
    private static partial Regex KbPerSecond();

    [GeneratedRegex(@"^\s*Duration: .*bitrate: (?<v>\d+) kb/s")]
    private static partial Regex DurationBitRate();

    public static InputVideo? TryParse(string line)
    {
        var m = VideoLine().Match(line);
        if (!m.Success) return null;
        var rest = line[(m.Index + m.Length)..];
        var inv = CultureInfo.InvariantCulture;

        int w = 0, h = 0;
        if (Size().Match(rest) is { Success: true } s)
        {
            int.TryParse(s.Groups["w"].ValueSpan, NumberStyles.None, inv, out w);
            int.TryParse(s.Groups["h"].ValueSpan, NumberStyles.None, inv, out h);
        }

        double fps = 0, tbr = 0;
        foreach (Match r in Rate().Matches(rest))
        {
            if (!double.TryParse(r.Groups["v"].ValueSpan, NumberStyles.Float, inv, out var v)) continue;
            if (r.Groups["k"].Length > 0) v *= 1000;
            if (r.Groups["unit"].ValueSpan is "fps") fps = v; else tbr = v;
        }

        long? bitRate = KbPerSecond().Match(rest) is { Success: true } b && long.TryParse(b.Groups["v"].ValueSpan, NumberStyles.None, inv, out var kb)
            ? kb * 1000
            : null;
        return new InputVideo(m.Groups["codec"].Value, w, h, fps > 0 ? fps : tbr, bitRate);
    }

    /// <summary>The container's overall bitrate from the "Duration: …, bitrate: N kb/s" line (files), in bit/s.</summary>
    public static long? TryParseDurationBitRate(string line) =>
        DurationBitRate().Match(line) is { Success: true } m &&
        long.TryParse(m.Groups["v"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var kb)
            ? kb * 1000
            : null;
}
