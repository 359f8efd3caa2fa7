using System.Buffers;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using CitySight.Domain;
using FFMpegCore;
using FFMpegCore.Exceptions;

namespace CitySight.Ingest;

/// <summary>
/// One pass over a camera stream or a video file with the ffmpeg program: probe (ffprobe), decode, sample,
/// and hand out BGR24 frames in pooled buffers with capture times from the stream's own timestamps.
/// </summary>
public static class VideoReader
{
    /// <summary>Packets read from a file to measure its GOP (demux only, no decoding: cheap).</summary>
    private const int GopProbePackets = 600;

    /// <summary>
    /// Reads frames until the end of the file (or of the live stream), then completes. Throws
    /// <see cref="StreamException"/> when the source cannot be opened or fails while reading, and
    /// OperationCanceledException when <paramref name="ct"/> is cancelled; ffmpeg is killed either way.
    /// Each frame belongs to the caller, who must dispose it.
    /// </summary>
    public static async IAsyncEnumerable<Frame> ReadAsync(string cameraId, string url, VideoReadOptions options,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var live = IsNetworkUrl(url);
        var opened = Stopwatch.StartNew();

        var info = await OpenAsync(cameraId, url, live, options, ct).ConfigureAwait(false);
        options.OnOpened?.Invoke(info);

        var frameBytes = checked(info.Width * info.Height * 3);
        var interval = options.SampleInterval;
        var minSpacing = interval > TimeSpan.Zero ? interval - SelectSlack : TimeSpan.Zero;
        var clock = new CaptureClock(live, live ? default : new DateTimeOffset(File.GetLastWriteTimeUtc(url), TimeSpan.Zero), interval);

        FfmpegProcess ffmpeg;
        try
        {
            ffmpeg = FfmpegProcess.Start(options.FfmpegPath, BuildArguments(url, live, info, options));
        }
        catch (Win32Exception e)
        {
            throw StreamException.Create(cameraId, url, StreamFailureKind.ProcessFailed, $"cannot run {options.FfmpegPath}: {e.Message}");
        }

        await using var _ = ffmpeg.ConfigureAwait(false);
        var stderr = new ShowInfoReader(url, options.OnKeyframeInterval);
        var stderrTask = stderr.RunAsync(ffmpeg.Stderr);

        // Cancellation and the watchdog both act by killing ffmpeg: that ends any pending pipe read at once.
        var stalled = 0;
        await using var onCancel = ct.Register(ffmpeg.Kill).ConfigureAwait(false);
        using var watchdog = new Timer(_ =>
        {
            Interlocked.Exchange(ref stalled, 1);
            ffmpeg.Kill();
        });

        var sequence = options.FirstSequence;
        DateTimeOffset? lastDelivered = null;
        var first = true;
        var stdout = ffmpeg.Stdout;
        try
        {
            while (true)
            {
                // The first frame may take the rest of the open budget (connect, first keyframe); later ones the stall timeout.
                var budget = first ? options.OpenTimeout - opened.Elapsed : options.EffectiveStallTimeout;
                watchdog.Change(budget > TimeSpan.Zero ? budget : TimeSpan.Zero, Timeout.InfiniteTimeSpan);

                var buffer = ArrayPool<byte>.Shared.Rent(frameBytes);
                var handedOn = false;
                try
                {
                    var read = await ReadFrameAsync(stdout, buffer, frameBytes).ConfigureAwait(false);
                    if (read < frameBytes) break; // end of output (a partial frame only comes from a killed ffmpeg)

                    var (available, pts) = await stderr.NextFramePtsAsync(CancellationToken.None).ConfigureAwait(false);
                    watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    if (!available) break; // stderr closed without this frame's line: ffmpeg died mid-frame

                    var capture = clock.Next(pts, arrival: DateTimeOffset.UtcNow);
                    first = false;
                    // ffmpeg's select already spaced frames by the interval; this also holds when it could not
                    // (timestamps rebased, NOPTS frames).
                    if (lastDelivered is { } prev && capture - prev < minSpacing) continue;

                    lastDelivered = capture;
                    var frame = new Frame(cameraId, sequence++, capture, info.Width, info.Height, buffer);
                    handedOn = true;
                    yield return frame;
                }
                finally
                {
                    if (!handedOn) ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        finally
        {
            watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            // Also reached when the consumer stops early: ffmpeg must not outlive the enumeration.
            ffmpeg.Kill();
            await ffmpeg.WaitForExitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            await stderrTask.ConfigureAwait(false);
        }

        ct.ThrowIfCancellationRequested();
        if (Volatile.Read(ref stalled) != 0)
        {
            var waited = first ? options.OpenTimeout : options.EffectiveStallTimeout;
            throw StreamException.Create(cameraId, url, StreamFailureKind.Timeout,
                first
                    ? $"no frame within {waited.TotalSeconds:0.#} s of opening"
                    : $"no frame for {waited.TotalSeconds:0.#} s (stream stalled)");
        }
        if (ffmpeg.ExitCode != 0)
        {
            var (kind, reason) = FfmpegErrors.Classify(stderr.Tail());
            throw StreamException.Create(cameraId, url, kind, $"ffmpeg exited with code {ffmpeg.ExitCode}: {reason}");
        }
        // Exit code 0 with the killed flag unset: the file (or the live stream) ended.
    }

    /// <summary>rtsp://, http:// and the like; anything else is a local file path.</summary>
    public static bool IsNetworkUrl(string url) =>
        url.Contains("://", StringComparison.Ordinal) && !url.StartsWith("file://", StringComparison.OrdinalIgnoreCase);

    // Tolerance for comparing timestamps against the interval: 0.999999 s must count as 1 s.
    private static readonly TimeSpan SelectSlack = TimeSpan.FromMilliseconds(1);

    private static async ValueTask<int> ReadFrameAsync(Stream stdout, byte[] buffer, int frameBytes)
    {
        try
        {
            return await stdout.ReadAtLeastAsync(buffer.AsMemory(0, frameBytes), frameBytes, throwOnEndOfStream: false)
                .ConfigureAwait(false);
        }
        catch (IOException)
        {
            return 0; // pipe torn down by a kill
        }
    }

    internal static IReadOnlyList<string> BuildArguments(string url, bool live, StreamInfo info, VideoReadOptions o)
    {
        var inv = CultureInfo.InvariantCulture;
        var a = new List<string> { "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info" };
        if (live)
        {
            var rtsp = url.StartsWith("rtsp", StringComparison.OrdinalIgnoreCase);
            if (rtsp) a.AddRange(["-rtsp_transport", "tcp"]);
            // ffprobe has already looked at the stream. Left at its default (up to 5 s), ffmpeg's own stream analysis
            // would hold back the first frame for seconds when keyframes only are decoded, then release a burst.
            a.AddRange(["-analyzeduration", "1000000"]);
            // ffmpeg's own socket timeout is only a backstop behind our watchdog (which gives the clearer reason).
            // (rtsp and http take it in microseconds; other protocols may not know the option at all.)
            if (rtsp || url.StartsWith("http", StringComparison.OrdinalIgnoreCase))
            {
                var socketTimeout = Max(o.OpenTimeout, o.EffectiveStallTimeout) + TimeSpan.FromSeconds(5);
                a.AddRange(["-timeout", ((long)socketTimeout.TotalMicroseconds).ToString(inv)]);
            }
        }
        else
        {
            if (o.RealTime) a.Add("-re");
            if (o.Loop) a.AddRange(["-stream_loop", "-1"]); // ffmpeg offsets each pass: timestamps keep increasing
        }
        if (o.DecoderThreads > 0) a.AddRange(["-threads", o.DecoderThreads.ToString(inv)]);
        if (info.KeyframesOnly) a.AddRange(["-skip_frame", "nokey"]);
        a.AddRange(["-i", url, "-map", "0:v:0", "-an", "-sn", "-dn"]);

        var filters = new List<string>();
        // One stderr line per decoded frame, only where the GOP is still to be learnt from the stream (live) or is
        // nearly free (keyframes only). A file's GOP was probed from its packets, and at hundreds of frames a second
        // the extra lines would cost the reader more than the frames themselves.
        if (o.OnKeyframeInterval is not null && (live || info.KeyframesOnly)) filters.Add("showinfo@all=checksum=0");
        if (o.SampleInterval > TimeSpan.Zero)
        {
            var seconds = (o.SampleInterval - SelectSlack).TotalSeconds.ToString("0.######", inv);
            filters.Add($"select='isnan(prev_selected_t)+gte(t-prev_selected_t,{seconds})'");
        }
        // An explicit size keeps every frame at the probed size even if the stream changes resolution mid-way.
        filters.Add($"scale={info.Width.ToString(inv)}:{info.Height.ToString(inv)}");
        filters.Add("format=bgr24");
        filters.Add("showinfo@out=checksum=0");
        a.AddRange(["-vf", string.Join(",", filters)]);

        // passthrough: the rawvideo muxer would otherwise duplicate/drop frames to a constant rate.
        // flush_packets: each frame leaves ffmpeg's I/O buffer at once, not when the next one arrives.
        a.AddRange(["-fps_mode", "passthrough", "-flush_packets", "1", "-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1"]);
        return a;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static async Task<StreamInfo> OpenAsync(string cameraId, string url, bool live, VideoReadOptions o, CancellationToken ct)
    {
        if (!live && !File.Exists(url))
            throw StreamException.Create(cameraId, url, StreamFailureKind.NotFound, "no such file");

        if (o.KnownStream is { } known)
        {
            var knownGop = o.KeyframeInterval ?? known.KeyframeInterval;
            return known with { KeyframeInterval = knownGop, KeyframesOnly = ChooseKeyframesOnly(o, knownGop) };
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(o.OpenTimeout);
        IMediaAnalysis analysis;
        try
        {
            analysis = live
                ? await FFProbe.AnalyseAsync(new Uri(url), null,
                    url.StartsWith("rtsp", StringComparison.OrdinalIgnoreCase) ? "-rtsp_transport tcp" : null,
                    timeout.Token).ConfigureAwait(false)
                : await FFProbe.AnalyseAsync(url, null, null, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // No socket timeout is given to ffprobe on purpose: our own timeout kills it and names the cause plainly.
            throw StreamException.Create(cameraId, url, StreamFailureKind.Timeout,
                $"no answer within {o.OpenTimeout.TotalSeconds:0.#} s while opening the stream");
        }
        catch (FFProbeProcessException e)
        {
            var (kind, reason) = FfmpegErrors.Classify(e.StandardError.Select(l => Secrets.Scrub(l, url)).ToArray());
            throw StreamException.Create(cameraId, url, kind, reason);
        }
        catch (FormatNullException)
        {
            throw StreamException.Create(cameraId, url, StreamFailureKind.InvalidData, "ffprobe could not read the container");
        }
        catch (UriFormatException)
        {
            throw StreamException.Create(cameraId, url, StreamFailureKind.InvalidData, "the URL is not valid");
        }
        catch (Exception e) when (e is FFMpegException or Win32Exception or System.Text.Json.JsonException)
        {
            // Messages are scrubbed: ffprobe's errors may quote the URL with its password.
            throw StreamException.Create(cameraId, url, StreamFailureKind.ProcessFailed, Secrets.Scrub(e.Message, url));
        }

        var video = analysis.PrimaryVideoStream;
        if (video?.Width is not > 0 || video.Height is not > 0)
            throw StreamException.Create(cameraId, url, StreamFailureKind.NoVideo, "the source has no video stream with a known size");

        var gop = o.KeyframeInterval;
        if (gop is null && !live && o.Decode == DecodeMode.Auto && o.SampleInterval > TimeSpan.Zero)
            gop = await ProbeFileGopAsync(url, timeout.Token).ConfigureAwait(false);

        var fps = video.AverageFrameRate > 0 ? video.AverageFrameRate : video.RealFrameRate;
        return new StreamInfo(video.Width.Value, video.Height.Value, video.CodecName ?? "", fps, live, gop, ChooseKeyframesOnly(o, gop));
    }

    private static bool ChooseKeyframesOnly(VideoReadOptions o, TimeSpan? gop) => o.Decode switch
    {
        DecodeMode.KeyframesOnly => true,
        DecodeMode.AllFrames => false,
        _ => gop is { } g && o.AllowsKeyframesOnly(g),
    };

    /// <summary>Widest keyframe gap among a file's first packets; null when fewer than two keyframes are seen.</summary>
    private static async Task<TimeSpan?> ProbeFileGopAsync(string path, CancellationToken ct)
    {
        FFProbePackets packets;
        try
        {
            packets = await FFProbe.GetPacketsAsync(path, null,
                $"-select_streams v:0 -read_intervals %+#{GopProbePackets.ToString(CultureInfo.InvariantCulture)}", ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FFMpegException or System.Text.Json.JsonException or Win32Exception)
        {
            return null; // unknown GOP: decode every frame, which is always correct
        }

        TimeSpan? previous = null;
        TimeSpan? widest = null;
        foreach (var p in packets.Packets)
        {
            if (p.Flags is null || !p.Flags.StartsWith('K')) continue;
            if (!TimeSpan.TryParse(p.PtsTime, CultureInfo.InvariantCulture, out var t)) continue;
            if (previous is { } prev && t > prev)
            {
                var gap = t - prev;
                if (widest is null || gap > widest) widest = gap;
            }
            previous = t;
        }
        return widest;
    }
}
