using System.Text.RegularExpressions;

namespace CitySight.Ingest;

/// <summary>Turns ffmpeg/ffprobe stderr lines into a failure kind and a one-line reason.</summary>
internal static partial class FfmpegErrors
{
    // "[rtsp @ 0x55d4...] " prefixes carry a heap address: noise in a reason shown to operators.
    [GeneratedRegex(@"^\[[^\]]+ @ 0x[0-9a-fA-F]+\]\s*")]
    private static partial Regex ContextPrefix();

    private static readonly (string Needle, StreamFailureKind Kind)[] Patterns =
    [
        ("404 Not Found", StreamFailureKind.NotFound),
        ("No such file or directory", StreamFailureKind.NotFound),
        ("401 Unauthorized", StreamFailureKind.Unauthorized),
        ("403 Forbidden", StreamFailureKind.Unauthorized),
        ("Connection refused", StreamFailureKind.ConnectionRefused),
        ("timed out", StreamFailureKind.Timeout),
        ("Connection reset", StreamFailureKind.ConnectionLost),
        ("Broken pipe", StreamFailureKind.ConnectionLost),
        ("End of file", StreamFailureKind.ConnectionLost),
        ("Network is unreachable", StreamFailureKind.ConnectionRefused),
        ("No route to host", StreamFailureKind.ConnectionRefused),
        // getaddrinfo's words as ffmpeg quotes them ("Failed to resolve hostname X: ...").
        ("Name or service not known", StreamFailureKind.UnknownHost),
        ("Temporary failure in name resolution", StreamFailureKind.UnknownHost),
        ("No address associated with hostname", StreamFailureKind.UnknownHost),
        ("Failed to resolve hostname", StreamFailureKind.UnknownHost),
        ("Invalid data found", StreamFailureKind.InvalidData),
        ("exceeds specified max pixel count", StreamFailureKind.InvalidData), // -max_pixels
        ("not on whitelist", StreamFailureKind.InvalidData), // -protocol_whitelist: a file or SDP pointing elsewhere
        ("does not contain any stream", StreamFailureKind.NoVideo),
        ("matches no streams", StreamFailureKind.NoVideo), // -map 0:v:0 on a source without video
    ];

    public static string Clean(string line) => ContextPrefix().Replace(line.Trim(), "");

    /// <summary>The most telling line: the last one naming a known cause, else the last line.</summary>
    public static (StreamFailureKind Kind, string Reason) Classify(IReadOnlyList<string> lines)
    {
        for (var i = lines.Count - 1; i >= 0; i--)
            foreach (var (needle, kind) in Patterns)
                if (lines[i].Contains(needle, StringComparison.OrdinalIgnoreCase))
                    return (kind, Clean(lines[i]));
        for (var i = lines.Count - 1; i >= 0; i--)
            if (!string.IsNullOrWhiteSpace(lines[i]))
                return (StreamFailureKind.Unknown, Clean(lines[i]));
        return (StreamFailureKind.Unknown, "no error output");
    }
}
