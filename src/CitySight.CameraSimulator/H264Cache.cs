using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FFMpegCore;

namespace CitySight.CameraSimulator;

/// <summary>
/// Makes sure a source video is an H.264 MP4 the GStreamer server can demux (qtdemux ! h264parse),
/// transcoding it once with the ffmpeg program when it is not.
/// </summary>
public static class H264Cache
{
    // One transcode at a time per target file within this process; across processes the
    // write-to-temp-then-rename below keeps readers from ever seeing a half-written file.
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Locks = new();

    public static async Task<string> EnsureH264Async(string source, string cacheDirectory, int keyframeInterval,
        string ffmpegPath = "ffmpeg", CancellationToken ct = default)
    {
        var info = new FileInfo(source);
        if (!info.Exists) throw new FileNotFoundException($"simulator source video not found: {source}", source);

        IMediaAnalysis analysis;
        try
        {
            analysis = await FFProbe.AnalyseAsync(source, null, null, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidDataException($"simulator source {source} cannot be read as a video: {e.Message}", e);
        }
        var video = analysis.PrimaryVideoStream ?? throw new InvalidDataException($"no video stream in {source}");
        if (video.CodecName == "h264" && analysis.Format.FormatName.Contains("mp4", StringComparison.Ordinal))
            return source;

        Directory.CreateDirectory(cacheDirectory);
        // Name + size + mtime: a changed source gets a new transcode, an unchanged one is reused.
        var key = string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileNameWithoutExtension(info.Name)}-{info.Length}-{info.LastWriteTimeUtc.Ticks}-g{keyframeInterval}.h264.mp4");
        var target = Path.Combine(cacheDirectory, key);
        if (File.Exists(target)) return target;

        var gate = Locks.GetOrAdd(target, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (File.Exists(target)) return target;
            var temp = Path.Combine(cacheDirectory, $"{key}.{Guid.NewGuid():N}.tmp.mp4");
            try
            {
                await TranscodeAsync(ffmpegPath, source, temp, keyframeInterval, ct).ConfigureAwait(false);
                File.Move(temp, target, overwrite: true);
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
            return target;
        }
        finally
        {
            gate.Release();
        }
    }

    // Process rather than FFMpegCore's argument builder: the exact argument list is the point here,
    // and the error we want on failure is ffmpeg's own stderr.
    private static async Task TranscodeAsync(string ffmpeg, string source, string target, int gop, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(ffmpeg)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", source,
                     "-map", "0:v:0", "-an", "-sn", "-dn",
                     "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                     // A fixed GOP (no scene-cut keyframes) so tests can rely on it.
                     "-g", gop.ToString(CultureInfo.InvariantCulture),
                     "-keyint_min", gop.ToString(CultureInfo.InvariantCulture), "-sc_threshold", "0",
                     "-movflags", "+faststart", target,
                 })
            psi.ArgumentList.Add(a);

        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start ffmpeg");
        p.StandardInput.Close();
        var stderr = p.StandardError.ReadToEndAsync(ct);
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        try
        {
            await p.WaitForExitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }
        var err = await stderr.ConfigureAwait(false);
        await stdout.ConfigureAwait(false);
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"ffmpeg could not transcode {source} to H.264 (exit {p.ExitCode}): {err.Trim()}");
    }
}
