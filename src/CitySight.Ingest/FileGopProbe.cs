using System.Globalization;

namespace CitySight.Ingest;

/// <summary>
/// A file's GOP from the keyframe times of its first packets: ffprobe demuxes them without decoding (cheap). Run
/// through <see cref="FfmpegProcess"/> like every other child, so it too gets the cleared environment.
/// </summary>
internal static class FileGopProbe
{
    /// <summary>Widest keyframe gap among the file's first <paramref name="packets"/> packets; null when fewer than two
    /// keyframes are seen, or when ffprobe cannot tell (the reader then decodes every frame, which is always correct).</summary>
    public static async Task<TimeSpan?> WidestGapAsync(string path, string ffmpegPath, int packets, CancellationToken ct)
    {
        FfmpegProcess ffprobe;
        try
        {
            ffprobe = FfmpegProcess.Start(ProbePath(ffmpegPath), new FfmpegCommand(Arguments(path, packets)));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
        await using var _ = ffprobe.ConfigureAwait(false);
        await using var onCancel = ct.Register(ffprobe.Kill).ConfigureAwait(false);
        var drainErrors = ffprobe.Stderr.CopyToAsync(Stream.Null, CancellationToken.None);

        TimeSpan? previous = null, widest = null;
        try
        {
            using var reader = new StreamReader(ffprobe.Stdout);
            while (await reader.ReadLineAsync(CancellationToken.None).ConfigureAwait(false) is { } line)
            {
                if (ParseKeyframe(line) is not { } t) continue;
                if (previous is { } prev && t > prev && (widest is null || t - prev > widest)) widest = t - prev;
                previous = t;
            }
            await drainErrors.ConfigureAwait(false);
        }
        catch (IOException)
        {
            return null; // killed (cancelled)
        }
        ct.ThrowIfCancellationRequested();
        return widest;
    }

    /// <summary>ffprobe beside the configured ffmpeg (a bare name: both from PATH).</summary>
    internal static string ProbePath(string ffmpegPath)
    {
        var dir = Path.GetDirectoryName(ffmpegPath);
        return string.IsNullOrEmpty(dir) ? "ffprobe" : Path.Combine(dir, "ffprobe");
    }

    internal static IReadOnlyList<string> Arguments(string path, int packets) =>
    [
        "-v", "error", "-protocol_whitelist", "file", "-select_streams", "v:0",
        "-read_intervals", "%+#" + packets.ToString(CultureInfo.InvariantCulture),
        "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", path,
    ];

    /// <summary>"0.600000,K__" → 0.6 s for a keyframe; null for other packets and anything unreadable.</summary>
    internal static TimeSpan? ParseKeyframe(string line)
    {
        var comma = line.IndexOf(',');
        if (comma <= 0 || comma + 1 >= line.Length || line[comma + 1] != 'K') return null;
        return double.TryParse(line.AsSpan(0, comma), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && double.IsFinite(s)
            ? TimeSpan.FromSeconds(s)
            : null;
    }
}
