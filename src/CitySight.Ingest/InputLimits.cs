using System.Globalization;

namespace CitySight.Ingest;

/// <summary>
/// What a source may make ffmpeg and the reader do: the largest picture, the protocols it may open. A camera is not
/// trusted: its stream can announce any size, and its files or SDP can name other inputs.
/// </summary>
internal static class InputLimits
{
    /// <summary>3840 × 2160: the default limit on a decoded picture (<c>-max_pixels</c>) and on a frame on the pipe.</summary>
    public const long DefaultMaxFramePixels = 3840L * 2160L;

    /// <summary>
    /// Whether an announced frame is one ffmpeg can have been asked for: within the scale box it was given (when one was)
    /// and the pixel limit it decodes under. Not checked against the size the stream opened with: a camera may change
    /// resolution mid-stream, and ffmpeg's -max_pixels already refuses to decode anything larger.
    /// </summary>
    internal static bool Fits(FrameLine line, int maxWidth, int maxHeight, long maxPixels) =>
        line.Width > 0 && line.Height > 0 &&
        (maxWidth <= 0 || line.Width <= maxWidth) &&
        (maxHeight <= 0 || line.Height <= maxHeight) &&
        (long)line.Width * line.Height <= (maxPixels > 0 ? maxPixels : DefaultMaxFramePixels);

    /// <summary>
    /// -max_pixels, before -i: the decoder refuses larger pictures before allocating them. (<see cref="FfmpegInput"/> adds
    /// it, with -protocol_whitelist: the demuxer opens only what this source needs, so a file cannot name a URL, an SDP
    /// cannot point at a file.)
    /// </summary>
    public static void AddPixelLimit(List<string> a, long maxPixels)
    {
        var limit = maxPixels > 0 ? maxPixels : DefaultMaxFramePixels;
        a.AddRange(["-max_pixels", Math.Min(limit, int.MaxValue).ToString(CultureInfo.InvariantCulture)]);
    }

    /// <remarks>
    /// ffmpeg 5.1's RTSP demuxer opens its TLS connection without the caller's options, so <c>-tls_verify 1 -ca_file</c>
    /// are accepted and ignored (checked by hand against a self-signed server: rtsps connects, https with the same options
    /// fails "Peer certificate failed verification"). With <see cref="VideoReadOptions.RtspsCaFile"/> set, ffmpeg reads an
    /// rtsps camera as plain rtsp from a local <see cref="RtspsRelay"/> that verifies it; without, rtsps is encryption only.
    /// </remarks>
    public static string ProtocolWhitelist(string url, bool live)
    {
        if (!live) return "file";
        if (url.StartsWith("http", StringComparison.OrdinalIgnoreCase)) return "http,https,tcp,tls";
        return "rtsp,rtsps,tcp,tls,udp,rtp";
    }
}
