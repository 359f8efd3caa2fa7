using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CitySight.CameraSimulator;

/// <summary>How <see cref="H264Cache.EnsureH264Async(string, string, H264EncodeOptions, string, CancellationToken)"/> encodes a source.</summary>
public sealed record H264EncodeOptions
{
    /// <summary>Frames between keyframes (a fixed GOP: no scene-cut keyframes); 0 = two seconds at the source's frame rate.</summary>
    public int KeyframeInterval { get; init; }

    /// <summary>Output size; null keeps the source's. Give both or neither.</summary>
    public int? Width { get; init; }

    public int? Height { get; init; }

    /// <summary>Target bitrate in kbit/s (also the peak rate); null = constant quality (CRF 23).</summary>
    public int? BitrateKbps { get; init; }

    /// <summary>Where to start in the source; null = its beginning.</summary>
    public TimeSpan? Start { get; init; }

    /// <summary>Keep only this much of the source (a short clip for tests); null = all of it.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>
    /// Serve the source as it is when it already suits the simulator (H.264 in MP4, no B-frames) and nothing
    /// above asks for a change; the keyframe interval is then the file's own.
    /// </summary>
    public bool PassThroughH264 { get; init; }

    /// <summary>x264 preset: encode speed against size.</summary>
    public string Preset { get; init; } = "veryfast";

    /// <summary>The benchmark source: 1920x1080 H.264, a 2 s GOP at the source's frame rate, about 3 Mbit/s.</summary>
    public static H264EncodeOptions Benchmark1080p { get; } = new() { Width = 1920, Height = 1080, BitrateKbps = 3000 };

    internal bool ChangesContent => Width is not null || Height is not null || BitrateKbps is not null || Start is not null || Duration is not null;
}

/// <summary>What <see cref="H264Cache.EnsureResolutionChangeAsync"/> builds: one H.264 stream whose picture size changes halfway.</summary>
public sealed record ResolutionChangeOptions
{
    public int FirstWidth { get; init; } = 640;
    public int FirstHeight { get; init; } = 480;
    public int SecondWidth { get; init; } = 320;
    public int SecondHeight { get; init; } = 240;

    /// <summary>Length of each half; null = half the source.</summary>
    public TimeSpan? PartDuration { get; init; }

    /// <summary>Frames between keyframes in both halves.</summary>
    public int KeyframeInterval { get; init; } = 20;
}

/// <summary>
/// Makes sure a source video is an H.264 MP4 the simulator can pass through (qtdemux ! h264parse, no B-frames),
/// transcoding it once with the ffmpeg program when it is not, and builds derived sources (scaled, cut,
/// resolution-changing) in a cache folder. Every product is written to a temporary name and renamed, so a
/// reader (or another process) never sees a half-written file.
/// </summary>
public static class H264Cache
{
    // One producer at a time per target file within this process; across processes the rename keeps it safe.
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Locks = new();

    /// <summary>
    /// The source itself when it is an H.264 MP4 without B-frames, else a cached transcode with a fixed GOP of
    /// <paramref name="keyframeInterval"/> frames and no B-frames (the simulator re-times frames in arrival order).
    /// </summary>
    public static Task<string> EnsureH264Async(string source, string cacheDirectory, int keyframeInterval,
        string ffmpegPath = "ffmpeg", CancellationToken ct = default) =>
        EnsureH264Async(source, cacheDirectory, new H264EncodeOptions { KeyframeInterval = keyframeInterval, PassThroughH264 = true },
            ffmpegPath, ct);

    /// <summary>An H.264 MP4 (no B-frames, fixed GOP) made from <paramref name="source"/> as <paramref name="options"/> say, cached.</summary>
    public static async Task<string> EnsureH264Async(string source, string cacheDirectory, H264EncodeOptions options,
        string ffmpegPath = "ffmpeg", CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if ((options.Width is null) != (options.Height is null))
            throw new ArgumentException("give both Width and Height, or neither", nameof(options));
        var info = SourceInfo(source);
        var probe = await ProbeAsync(ffmpegPath, source, ct).ConfigureAwait(false);
        if (options.PassThroughH264 && !options.ChangesContent && probe is { Codec: "h264", IsMp4: true, HasBFrames: false })
            return source;

        var gop = options.KeyframeInterval > 0 ? options.KeyframeInterval : Math.Max(1, (int)Math.Round(2 * probe.FrameRate));
        var describe = string.Create(CultureInfo.InvariantCulture,
            $"g{gop}-bf0-{options.Width}x{options.Height}-b{options.BitrateKbps}-ss{options.Start?.TotalSeconds}-t{options.Duration?.TotalSeconds}-{options.Preset}");
        var target = Path.Combine(cacheDirectory, $"{CacheStem(info)}-{ShortHash(describe)}.h264.mp4");
        return await EnsureCachedAsync(target, async temp =>
        {
            var args = new List<string> { "-hide_banner", "-nostdin", "-loglevel", "error", "-y" };
            if (options.Start is { } start) args.AddRange(["-ss", Seconds(start)]);
            if (options.Duration is { } duration) args.AddRange(["-t", Seconds(duration)]);
            args.AddRange(["-i", source, "-map", "0:v:0", "-an", "-sn", "-dn"]);
            if (options.Width is { } w && options.Height is { } h)
                args.AddRange(["-vf", string.Create(CultureInfo.InvariantCulture, $"scale={w}:{h}:flags=bicubic,setsar=1")]);
            args.AddRange(EncoderArgs(gop, options.Preset));
            if (options.BitrateKbps is { } kbps)
                args.AddRange(["-b:v", $"{kbps}k", "-maxrate", $"{kbps}k", "-bufsize", $"{2 * kbps}k"]);
            args.AddRange(["-movflags", "+faststart", "-f", "mp4", temp]);
            await RunAsync(ffmpegPath, args, $"transcode {source} to H.264", ct).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// An H.264 MP4 with ONE video stream whose first half is <see cref="ResolutionChangeOptions.FirstWidth"/>x… and
    /// second half <see cref="ResolutionChangeOptions.SecondWidth"/>x…: new SPS/PPS mid-stream, as a camera whose
    /// resolution is changed while it streams. The halves are encoded separately to MPEG-TS (parameter sets in band)
    /// and joined with the concat demuxer and stream copy, so no filter rescales them to one size.
    /// </summary>
    public static async Task<string> EnsureResolutionChangeAsync(string source, string cacheDirectory,
        ResolutionChangeOptions? options = null, string ffmpegPath = "ffmpeg", CancellationToken ct = default)
    {
        options ??= new ResolutionChangeOptions();
        var info = SourceInfo(source);
        var probe = await ProbeAsync(ffmpegPath, source, ct).ConfigureAwait(false);
        var part = options.PartDuration ?? TimeSpan.FromSeconds(probe.Duration / 2);
        if (part <= TimeSpan.Zero) throw new InvalidDataException($"{source}: unknown or zero duration");
        var describe = string.Create(CultureInfo.InvariantCulture,
            $"rc-{options.FirstWidth}x{options.FirstHeight}-{options.SecondWidth}x{options.SecondHeight}-t{part.TotalSeconds}-g{options.KeyframeInterval}");
        var target = Path.Combine(cacheDirectory, $"{CacheStem(info)}-{ShortHash(describe)}.reschange.mp4");
        return await EnsureCachedAsync(target, async temp =>
        {
            var work = temp + ".parts";
            Directory.CreateDirectory(work);
            try
            {
                var parts = new[]
                {
                    (Start: TimeSpan.Zero, W: options.FirstWidth, H: options.FirstHeight),
                    (Start: part, W: options.SecondWidth, H: options.SecondHeight),
                };
                var list = new StringBuilder();
                for (var i = 0; i < parts.Length; i++)
                {
                    var ts = Path.Combine(work, $"part{i}.ts");
                    var args = new List<string>
                    {
                        "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                        "-ss", Seconds(parts[i].Start), "-t", Seconds(part), "-i", source,
                        "-map", "0:v:0", "-an", "-sn", "-dn",
                        "-vf", string.Create(CultureInfo.InvariantCulture, $"scale={parts[i].W}:{parts[i].H},setsar=1"),
                    };
                    args.AddRange(EncoderArgs(options.KeyframeInterval, "veryfast"));
                    args.AddRange(["-f", "mpegts", ts]);
                    await RunAsync(ffmpegPath, args, $"encode part {i} of a resolution change from {source}", ct).ConfigureAwait(false);
                    list.Append("file '").Append(ts.Replace("'", @"'\''", StringComparison.Ordinal)).Append("'\n");
                }
                var listFile = Path.Combine(work, "parts.txt");
                await File.WriteAllTextAsync(listFile, list.ToString(), ct).ConfigureAwait(false);
                await RunAsync(ffmpegPath,
                    ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i", listFile,
                        "-c", "copy", "-movflags", "+faststart", "-f", "mp4", temp],
                    "join the resolution-change parts", ct).ConfigureAwait(false);
                var joined = await ProbeAsync(ffmpegPath, temp, ct).ConfigureAwait(false);
                if (joined.VideoStreams != 1 || joined.Codec != "h264")
                    throw new InvalidDataException($"resolution change from {source}: expected one H.264 stream, got {joined.VideoStreams} ({joined.Codec})");
            }
            finally
            {
                Directory.Delete(work, recursive: true);
            }
        }, ct).ConfigureAwait(false);
    }

    // libx264, 4:2:0, a fixed GOP (no scene-cut keyframes: tests and keyframe-only decoding rely on it) and
    // no B-frames (the simulator stamps frames in the order they arrive, which must be presentation order).
    private static string[] EncoderArgs(int gop, string preset)
    {
        var g = gop.ToString(CultureInfo.InvariantCulture);
        return ["-c:v", "libx264", "-preset", preset, "-pix_fmt", "yuv420p", "-bf", "0", "-g", g, "-keyint_min", g, "-sc_threshold", "0"];
    }

    private static FileInfo SourceInfo(string source)
    {
        var info = new FileInfo(source);
        if (!info.Exists) throw new FileNotFoundException($"simulator source video not found: {source}", source);
        return info;
    }

    // Name + size + mtime: a changed source gets a new product, an unchanged one is reused.
    private static string CacheStem(FileInfo info) => string.Create(CultureInfo.InvariantCulture,
        $"{Path.GetFileNameWithoutExtension(info.Name)}-{info.Length}-{info.LastWriteTimeUtc.Ticks}");

    private static string ShortHash(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    private static async Task<string> EnsureCachedAsync(string target, Func<string, Task> produce, CancellationToken ct)
    {
        if (File.Exists(target)) return target;
        var dir = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(dir);
        var gate = Locks.GetOrAdd(target, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (File.Exists(target)) return target;
            var temp = Path.Combine(dir, $"{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp.mp4");
            try
            {
                await produce(temp).ConfigureAwait(false);
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

    internal sealed record Probe(string Codec, bool IsMp4, bool HasBFrames, double FrameRate, double Duration, int VideoStreams);

    /// <summary>ffprobe beside <paramref name="ffmpegPath"/> (or on PATH when that is a bare name).</summary>
    internal static string FfprobeFor(string ffmpegPath)
    {
        var dir = Path.GetDirectoryName(ffmpegPath);
        var name = "ffprobe" + Path.GetExtension(ffmpegPath);
        return string.IsNullOrEmpty(dir) ? name : Path.Combine(dir, name);
    }

    internal static async Task<Probe> ProbeAsync(string ffmpegPath, string source, CancellationToken ct)
    {
        string json;
        try
        {
            json = await RunAsync(FfprobeFor(ffmpegPath),
                ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", source], "probe", ct).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidDataException($"simulator source {source} cannot be read as a video: {e.Message}", e);
        }
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var videos = root.TryGetProperty("streams", out var streams)
            ? streams.EnumerateArray().Where(s => s.TryGetProperty("codec_type", out var t) && t.GetString() == "video").ToList()
            : [];
        if (videos.Count == 0) throw new InvalidDataException($"no video stream in {source}");
        var v = videos[0];
        var format = root.TryGetProperty("format", out var f) && f.TryGetProperty("format_name", out var n) ? n.GetString() ?? "" : "";
        var duration = root.TryGetProperty("format", out var f2) && f2.TryGetProperty("duration", out var d) &&
                       double.TryParse(d.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var secs) ? secs : 0;
        return new Probe(
            v.TryGetProperty("codec_name", out var c) ? c.GetString() ?? "" : "",
            format.Contains("mp4", StringComparison.Ordinal),
            v.TryGetProperty("has_b_frames", out var b) && b.GetInt32() > 0,
            Rate(v, "avg_frame_rate") is > 0 and var avg ? avg : Rate(v, "r_frame_rate") is > 0 and var r ? r : 25,
            duration,
            videos.Count);

        static double Rate(JsonElement v, string name)
        {
            if (!v.TryGetProperty(name, out var e) || e.GetString() is not { } text) return 0;
            var slash = text.IndexOf('/');
            return slash > 0 &&
                   double.TryParse(text.AsSpan(0, slash), NumberStyles.Float, CultureInfo.InvariantCulture, out var num) &&
                   double.TryParse(text.AsSpan(slash + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var den) && den > 0
                ? num / den
                : 0;
        }
    }

    // Process rather than FFMpegCore's argument builder: the exact argument list is the point here,
    // and the error we want on failure is the program's own stderr.
    private static async Task<string> RunAsync(string program, IEnumerable<string> arguments, string what, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {program}");
        p.StandardInput.Close();
        var stderr = p.StandardError.ReadToEndAsync(CancellationToken.None);
        var stdout = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
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
        var output = await stdout.ConfigureAwait(false);
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(program)} could not {what} (exit {p.ExitCode}): {err.Trim()}");
        return output;
    }
}
