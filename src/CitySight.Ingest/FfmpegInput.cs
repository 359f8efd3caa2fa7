using System.Text;
using CitySight.Domain;

namespace CitySight.Ingest;

/// <summary>
/// How a source reaches ffmpeg: its URL, the options of its own demuxer and protocol, and the limits it opens under.
/// <para>
/// A URL that carries a secret (a password, a token in the query: anything <see cref="Secrets.RedactUrl"/> hides) never
/// goes on the command line, which every local user can read in /proc/PID/cmdline. ffmpeg reads it instead from a
/// concat script written to its stdin (<c>-f concat -safe 0 -i pipe:0</c>), the demuxer options as the script's
/// <c>option</c> lines, which the concat demuxer hands to the nested open (ffmpeg 5.1 and later). Other URLs keep
/// <c>-i URL</c>: nothing to hide, and <c>ps</c> still shows which camera each ffmpeg reads.
/// </para>
/// </summary>
internal sealed class FfmpegInput
{
    /// <summary>What ffmpeg calls the script it read; its messages about the input start with it.</summary>
    internal const string ScriptName = "pipe:0";

    private readonly List<(string Name, string Value, bool Outer)> _options = [];

    public FfmpegInput(string url, bool live)
    {
        Url = url;
        Live = live;
        ViaStdin = live && Secrets.RedactUrl(url) != url;
    }

    public string Url { get; }
    public bool Live { get; }

    /// <summary>Whether the URL travels on stdin (it carries a secret).</summary>
    public bool ViaStdin { get; }

    /// <summary>An option of the source's demuxer or protocol (rtsp_transport, timeout…).</summary>
    public FfmpegInput Option(string name, string value)
    {
        _options.Add((name, value, false));
        return this;
    }

    /// <summary>A limit of the stream analysis (probesize, analyzeduration): wanted on the concat demuxer's own analysis too.</summary>
    public FfmpegInput Analysis(string name, string value)
    {
        _options.Add((name, value, true));
        return this;
    }

    /// <summary>
    /// The options, -max_pixels (unless null: nothing is decoded), -protocol_whitelist and -i, appended last before the
    /// input (after decoder options the caller put first). Via stdin, the whitelist of the outer open adds only
    /// <c>pipe</c> (for the script), and the nested open gets the source's own whitelist as an option, so the camera's
    /// side cannot name pipe:0 in turn.
    /// </summary>
    public void AddTo(List<string> a, long? maxPixels)
    {
        var whitelist = InputLimits.ProtocolWhitelist(Url, Live);
        foreach (var (name, value, outer) in _options)
            if (!ViaStdin || outer) a.AddRange(["-" + name, value]);
        if (maxPixels is { } limit) InputLimits.AddPixelLimit(a, limit);
        a.AddRange(["-protocol_whitelist", ViaStdin ? "pipe," + whitelist : whitelist]);
        if (ViaStdin) a.AddRange(["-f", "concat", "-safe", "0", "-i", ScriptName]);
        else a.AddRange(["-i", Url]);
    }

    /// <summary>The ffconcat script for stdin; null when the URL is on the command line.</summary>
    public string? Script()
    {
        if (!ViaStdin) return null;
        var s = new StringBuilder("ffconcat version 1.0\n");
        s.Append("file ").Append(Quote(Url)).Append('\n');
        foreach (var (name, value, _) in _options) s.Append("option ").Append(name).Append(' ').Append(Quote(value)).Append('\n');
        s.Append("option protocol_whitelist ").Append(Quote(InputLimits.ProtocolWhitelist(Url, Live))).Append('\n');
        return s.ToString();
    }

    /// <summary>
    /// Whether the URL can be written as one script line: the script is read line by line, so a line break would let the
    /// URL's text add directives of its own.
    /// </summary>
    public static bool IsOneLine(string url) => url.AsSpan().IndexOfAny('\r', '\n', '\0') < 0;

    /// <summary>ffconcat's quoting (av_get_token): everything between single quotes is literal; a quote is written '\''.</summary>
    internal static string Quote(string value) => "'" + value.Replace("'", @"'\''", StringComparison.Ordinal) + "'";
}
