using System.Buffers;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using CitySight.Domain;

namespace CitySight.Ingest;

/// <summary>
/// Reads a camera stream or a video file with the ffmpeg program: decode (CPU or hardware), sample, scale, and hand out
/// BGR24 frames in pooled buffers with capture times from the stream's own timestamps. Each frame's size is taken from
/// its own showinfo line, so a stream that changes resolution keeps delivering correct frames, and no ffprobe is run
/// before a live stream (ffmpeg describes the stream itself while opening it).
/// </summary>
public static class VideoReader
{
    /// <summary>Packets read from a file to measure its GOP (demux only, no decoding: cheap).</summary>
    private const int GopProbePackets = 600;

    // Tolerance for comparing timestamps against the interval: 0.999999 s must count as 1 s.
    private static readonly TimeSpan SelectSlack = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// Reads frames until the end of the file (or of the live stream), then completes. Throws
    /// <see cref="StreamException"/> when the source cannot be opened or fails while reading (a hung or frozen camera:
    /// <see cref="StreamFailureKind.Stalled"/>), and OperationCanceledException when <paramref name="ct"/> is cancelled;
    /// ffmpeg is killed either way. Each frame belongs to the caller, who must dispose it.
    /// </summary>
    public static async IAsyncEnumerable<Frame> ReadAsync(string cameraId, string url, VideoReadOptions options,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var live = IsNetworkUrl(url);
        var (gop, keyframesOnly) = await PlanAsync(cameraId, url, live, options, ct).ConfigureAwait(false);

        var interval = options.SampleInterval;
        var minSpacing = interval > TimeSpan.Zero ? interval - SelectSlack : TimeSpan.Zero;
        var clock = new CaptureClock(live, live ? default : FileStart(url, options.FileStartsAt), interval);

        var names = ShowInfoReader.NewInstanceNames();
        var relay = RtspsRelay.For(cameraId, url, options.RtspsCaFile);
        await using var __ = relay; // often null: the ConfigureAwait wrapper would not check
        var ffmpeg = Start(cameraId, url, options.FfmpegPath, BuildArguments(relay?.LocalUrl ?? url, live, keyframesOnly, options, names));
        await using var _ = ffmpeg.ConfigureAwait(false);

        var cpu = new CpuSampler(ffmpeg, IngestMetrics.DecoderCpuSeconds.WithLabels(cameraId, options.GroupId));
        // Cancellation and the watchdog both act by killing ffmpeg: that ends any pending read at once.
        // Its CPU time is read first: once it is dead there is nothing left to read.
        var stop = cpu.SampleThenKill;
        using var watchdog = new FrameWatchdog(options.OpenTimeout, options.StallTimeoutFor(gop), stop);
        var stderr = new ShowInfoReader(url, measured =>
        {
            // A keyframes-only stream with a wide GOP delivers a frame per GOP: allow for it.
            if (options.StallTimeout is null) watchdog.SetStallTimeout(options.StallTimeoutFor(measured));
            options.OnKeyframeInterval?.Invoke(measured);
        }, names.Out, names.All);
        var stderrTask = stderr.RunAsync(ffmpeg);
        await using var onCancel = ct.Register(stop).ConfigureAwait(false);

        var readSeconds = IngestMetrics.FrameReadSeconds.WithLabels(options.GroupId);
        var sequence = options.FirstSequence;
        DateTimeOffset? lastDelivered = null;
        var opened = false;
        FrameLine? badFrame = null;
        try
        {
            while (true)
            {
                watchdog.Waiting();
                var (available, line) = await stderr.NextFrameAsync().ConfigureAwait(false);
                if (!available) break; // ffmpeg ended (or was killed) without another frame
                if (!InputLimits.Fits(line, options.MaxFrameWidth, options.MaxFrameHeight, options.MaxFramePixels))
                {
                    badFrame = line;
                    break;
                }

                var announced = Stopwatch.GetTimestamp();
                var bytes = line.Bytes;
                var buffer = ArrayPool<byte>.Shared.Rent(bytes);
                var handedOn = false;
                try
                {
                    var read = await ReadFrameAsync(ffmpeg, buffer, bytes).ConfigureAwait(false);
                    watchdog.FrameArrived();
                    if (read < bytes) break; // a partial frame only comes from a killed ffmpeg
                    readSeconds.Observe(Stopwatch.GetElapsedTime(announced).TotalSeconds);
                    cpu.SampleIfDue();

                    var capture = clock.Next(line.Pts, arrival: DateTimeOffset.UtcNow);
                    if (!opened)
                    {
                        opened = true;
                        options.OnOpened?.Invoke(Describe(stderr.Input, line, live, gop, keyframesOnly));
                    }
                    // ffmpeg's select already spaced frames by the interval; this also holds when it could not
                    // (timestamps rebased, NOPTS frames).
                    if (lastDelivered is { } prev && capture - prev < minSpacing) continue;

                    lastDelivered = capture;
                    var frame = new Frame(cameraId, sequence++, capture, line.Width, line.Height, buffer);
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
            watchdog.Dispose();
            // Also reached when the consumer stops early: ffmpeg must not outlive the enumeration.
            cpu.SampleThenKill();
            await ffmpeg.WaitForExitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            await stderrTask.ConfigureAwait(false);
        }

        ct.ThrowIfCancellationRequested();
        ThrowIfRelayFailed(cameraId, url, relay);
        if (watchdog.Fired)
        {
            var open = Seconds(options.OpenTimeout);
            if (!watchdog.FiredBeforeFirstFrame)
                throw StreamException.Create(cameraId, url, StreamFailureKind.Stalled, $"no frame for {Seconds(watchdog.StallTimeout)} s");
            if (stderr.Connected && relay is not { Reached: false })
                throw StreamException.Create(cameraId, url, StreamFailureKind.Stalled, $"connected, but no frame within {open} s");
            throw StreamException.Create(cameraId, url, StreamFailureKind.Timeout, $"no answer within {open} s");
        }
        ThrowIfFfmpegFailed(cameraId, url, badFrame, ffmpeg, stderr);
        // Exit code 0 with neither the watchdog nor cancellation: the file (or the live stream) ended.
    }

    /// <summary>
    /// One fresh frame (a patrol visit): connect with minimal probing (RTSP over TCP), decode keyframes only, take the
    /// first decoded frame and kill ffmpeg at once. The capture time is the wall clock of its arrival (a file's: its
    /// last-write time, as for <see cref="ReadAsync"/>). The frame belongs to the caller, who must dispose it.
    /// Throws <see cref="StreamException"/> (NotFound, Unauthorized, ConnectionRefused, UnknownHost, Timeout…) and
    /// OperationCanceledException when <paramref name="ct"/> is cancelled.
    /// </summary>
    public static async Task<Frame> SnapshotAsync(string cameraId, string url, SnapshotOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ct.ThrowIfCancellationRequested();
        var live = IsNetworkUrl(url);
        if (!live && !File.Exists(url))
            throw StreamException.Create(cameraId, url, StreamFailureKind.NotFound, "no such file");

        var names = ShowInfoReader.NewInstanceNames();
        var relay = RtspsRelay.For(cameraId, url, options.RtspsCaFile);
        await using var __ = relay; // often null: the ConfigureAwait wrapper would not check
        var ffmpeg = Start(cameraId, url, options.FfmpegPath, BuildSnapshotArguments(relay?.LocalUrl ?? url, live, options, names));
        await using var _ = ffmpeg.ConfigureAwait(false);
        var stderr = new ShowInfoReader(url, null, names.Out, names.All);
        var stderrTask = stderr.RunAsync(ffmpeg);

        var cpu = new CpuSampler(ffmpeg, IngestMetrics.DecoderCpuSeconds.WithLabels(cameraId, options.GroupId));
        var timedOut = 0;
        using var timer = new Timer(_ =>
        {
            Interlocked.Exchange(ref timedOut, 1);
            cpu.SampleThenKill();
        }, null, options.Timeout > TimeSpan.Zero ? options.Timeout : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        await using var onCancel = ct.Register(cpu.SampleThenKill).ConfigureAwait(false);
        Frame? frame = null;
        byte[]? buffer = null;
        FrameLine? badFrame = null;
        try
        {
            var (available, line) = await stderr.NextFrameAsync().ConfigureAwait(false);
            if (available && !InputLimits.Fits(line, options.MaxFrameWidth, options.MaxFrameHeight, options.MaxFramePixels))
            {
                badFrame = line;
            }
            else if (available)
            {
                buffer = ArrayPool<byte>.Shared.Rent(line.Bytes);
                if (await ReadFrameAsync(ffmpeg, buffer, line.Bytes).ConfigureAwait(false) == line.Bytes)
                {
                    var arrival = DateTimeOffset.UtcNow;
                    var clock = new CaptureClock(live, live ? default : FileStart(url, null), TimeSpan.Zero);
                    frame = new Frame(cameraId, options.Sequence, clock.Next(line.Pts, arrival), line.Width, line.Height, buffer);
                    buffer = null;
                }
            }
        }
        finally
        {
            timer.Dispose(); // a frame in hand counts even if the timer fires now
            // At once: with -frames:v 1 ffmpeg would stop by itself, but only after tearing the session down politely.
            cpu.SampleThenKill();
            await ffmpeg.WaitForExitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            await stderrTask.ConfigureAwait(false);
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        }

        if (frame is not null)
        {
            if (!ct.IsCancellationRequested) return frame;
            frame.Dispose();
        }
        ct.ThrowIfCancellationRequested();
        ThrowIfRelayFailed(cameraId, url, relay);
        if (Volatile.Read(ref timedOut) != 0)
            throw StreamException.Create(cameraId, url, StreamFailureKind.Timeout, $"no frame within {Seconds(options.Timeout)} s");
        ThrowIfFfmpegFailed(cameraId, url, badFrame, ffmpeg, stderr);
        throw StreamException.Create(cameraId, url, StreamFailureKind.NoVideo, "the source ended without a decodable frame");
    }

    /// <summary>Capture time of a file's first frame: the configured start of the recording, else its last-write time.</summary>
    public static DateTimeOffset FileStart(string path, DateTimeOffset? startsAt) =>
        startsAt ?? new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);

    /// <summary>rtsp://, http:// and the like; anything else is a local file path.</summary>
    public static bool IsNetworkUrl(string url) =>
        url.Contains("://", StringComparison.Ordinal) && !url.StartsWith("file://", StringComparison.OrdinalIgnoreCase);


    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);

    internal static FfmpegProcess Start(string cameraId, string url, string program, FfmpegCommand command)
    {
        if (!FfmpegInput.IsOneLine(url))
            throw StreamException.Create(cameraId, url, StreamFailureKind.InvalidData, "the URL holds a line break");
        try
        {
            return FfmpegProcess.Start(program, command);
        }
        catch (Win32Exception e)
        {
            throw StreamException.Create(cameraId, url, StreamFailureKind.ProcessFailed, $"cannot run {program}: {e.Message}");
        }
    }

    /// <summary>Reads exactly <paramref name="frameBytes"/> unless the pipe ends first; returns the count read.</summary>
    private static async ValueTask<int> ReadFrameAsync(FfmpegProcess ffmpeg, byte[] buffer, int frameBytes)
    {
        var total = 0;
        try
        {
            while (total < frameBytes)
            {
                var n = await ffmpeg.ReadStdoutAsync(buffer.AsMemory(total, frameBytes - total)).ConfigureAwait(false);
                if (n == 0) break;
                total += n;
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // pipe torn down by a kill
        }
        return total;
    }

    private static StreamInfo Describe(InputVideo? input, FrameLine first, bool live, TimeSpan? gop, bool keyframesOnly) =>
        new(input is { Width: > 0 } ? input.Width : first.Width,
            input is { Height: > 0 } ? input.Height : first.Height,
            input?.Codec ?? "",
            input?.FrameRate ?? 0,
            live, gop, keyframesOnly);

    private static bool IsRtsp(string url) => url.StartsWith("rtsp", StringComparison.OrdinalIgnoreCase);

    /// <summary>RTSP over TCP and a socket timeout, for network sources.</summary>
    internal static void AddNetworkOptions(FfmpegInput input, TimeSpan socketTimeout)
    {
        var rtsp = IsRtsp(input.Url);
        if (rtsp) input.Option("rtsp_transport", "tcp");
        // ffmpeg's own socket timeout is only a backstop behind ours (which gives the clearer reason).
        // (rtsp and http take it in microseconds; other protocols may not know the option at all.)
        if (rtsp || input.Url.StartsWith("http", StringComparison.OrdinalIgnoreCase))
            input.Option("timeout", ((long)socketTimeout.TotalMicroseconds).ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The scale filter for a size limit, or null for none: fits the frame into MaxFrameWidth × MaxFrameHeight keeping its aspect
    /// ratio, never enlarging (the box is clamped to the input size). Re-evaluated when the input size changes.
    /// </summary>
    internal static string? ScaleFilter(int maxWidth, int maxHeight)
    {
        if (maxWidth <= 0 && maxHeight <= 0) return null;
        var inv = CultureInfo.InvariantCulture;
        var w = maxWidth > 0 ? $"'min(iw,{maxWidth.ToString(inv)})'" : "iw";
        var h = maxHeight > 0 ? $"'min(ih,{maxHeight.ToString(inv)})'" : "ih";
        return $"scale=w={w}:h={h}:force_original_aspect_ratio=decrease";
    }

    /// <summary>
    /// The frames as BGR24 on stdout. -autoscale 0: without it ffmpeg scales every frame to the first frame's size, and a
    /// stream that changes resolution would arrive squashed; instead each frame keeps its size and announces it.
    /// passthrough: the rawvideo muxer would otherwise duplicate/drop frames to a constant rate.
    /// flush_packets: each frame leaves ffmpeg's I/O buffer at once, not when the next one arrives.
    /// </summary>
    /// <summary>
    /// Stream analysis cut to the minimum. Both are needed: an analyzeduration of 0 alone means "the default" (seconds);
    /// the small probesize is what ends the analysis after the first packets.
    /// </summary>
    private static void MinimalProbe(FfmpegInput input) => input.Analysis("probesize", "32768").Analysis("analyzeduration", "0");

    private static readonly string[] RawOutput =
        ["-autoscale", "0", "-fps_mode", "passthrough", "-flush_packets", "1", "-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1"];

    internal static FfmpegCommand BuildArguments(string url, bool live, bool keyframesOnly, VideoReadOptions o,
        (string Out, string All)? showInfo = null)
    {
        var input = new FfmpegInput(url, live);
        var (outName, allName) = showInfo ?? ("out", "all");
        var inv = CultureInfo.InvariantCulture;
        // verbose (live only): adds a few lines per connection, among them "Successfully connected", which tells a hung
        // camera (stalled) from an unreachable one. Nothing per frame.
        var a = new List<string> { "-hide_banner", "-nostdin", "-nostats", "-loglevel", live ? "verbose" : "info" };
        if (live)
        {
            // No ffprobe beforehand: ffmpeg's own opening describes the stream (codec and size come with the SDP; the
            // decoder learns the rest from the first keyframe). Its default analysis (up to 5 s) would hold back the first
            // frame for seconds, then release a burst.
            MinimalProbe(input);
            AddNetworkOptions(input,
                Max(o.OpenTimeout, o.StallTimeoutFor(o.KeyframeInterval ?? o.KnownStream?.KeyframeInterval)) + TimeSpan.FromSeconds(5));
        }
        else
        {
            if (o.RealTime) a.Add("-re");
            if (o.Loop) a.AddRange(["-stream_loop", "-1"]); // ffmpeg offsets each pass: timestamps keep increasing
        }
        a.AddRange(DecoderArguments.For(o.Decoder, o.DecoderThreads, o.KnownStream?.Codec, o.DecoderDevice));
        if (keyframesOnly) a.AddRange(["-skip_frame", "nokey"]);
        input.AddTo(a, o.MaxFramePixels);
        a.AddRange(["-map", "0:v:0", "-an", "-sn", "-dn"]);

        var filters = new List<string>();
        // One stderr line per decoded frame, only where the GOP is still to be learnt from the stream (live) or is
        // nearly free (keyframes only). A file's GOP was probed from its packets, and at hundreds of frames a second
        // the extra lines would cost the reader more than the frames themselves.
        if (o.OnKeyframeInterval is not null && (live || keyframesOnly)) filters.Add($"showinfo@{allName}=checksum=0");
        if (o.SampleInterval > TimeSpan.Zero)
        {
            var seconds = (o.SampleInterval - SelectSlack).TotalSeconds.ToString("0.######", inv);
            filters.Add($"select='isnan(prev_selected_t)+gte(t-prev_selected_t,{seconds})'");
        }
        // After select: only the sampled frames are scaled.
        if (ScaleFilter(o.MaxFrameWidth, o.MaxFrameHeight) is { } scale) filters.Add(scale);
        filters.Add("format=bgr24");
        // Last, so that its s:WxH is the size of the bytes on the pipe.
        filters.Add($"showinfo@{outName}=checksum=0");
        a.AddRange(["-vf", string.Join(",", filters)]);
        a.AddRange(RawOutput);
        return new FfmpegCommand(a, input.Script());
    }

    internal static FfmpegCommand BuildSnapshotArguments(string url, bool live, SnapshotOptions o,
        (string Out, string All)? showInfo = null)
    {
        var input = new FfmpegInput(url, live);
        var a = new List<string> { "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info" };
        if (live)
        {
            // Waiting to "analyse" would cost seconds per visit (5-6 s measured with the defaults, against ~0.3 s + the
            // wait for a keyframe).
            MinimalProbe(input);
            AddNetworkOptions(input, o.Timeout + TimeSpan.FromSeconds(1));
        }
        a.AddRange(DecoderArguments.For(o.Decoder, o.DecoderThreads, o.Codec, o.DecoderDevice));
        // Only keyframes are decoded: the first one is a complete picture, with no reference frames to wait for.
        a.AddRange(["-skip_frame", "nokey"]);
        input.AddTo(a, o.MaxFramePixels);
        a.AddRange(["-map", "0:v:0", "-an", "-sn", "-dn"]);
        var filters = new List<string>();
        if (ScaleFilter(o.MaxFrameWidth, o.MaxFrameHeight) is { } scale) filters.Add(scale);
        filters.Add("format=bgr24");
        filters.Add($"showinfo@{(showInfo ?? ("out", "all")).Out}=checksum=0");
        a.AddRange(["-vf", string.Join(",", filters), "-frames:v", "1"]);
        a.AddRange(RawOutput);
        return new FfmpegCommand(a, input.Script());
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>The GOP (known, or probed from a file's packets) and whether to decode keyframes only.</summary>
    private static async Task<(TimeSpan? Gop, bool KeyframesOnly)> PlanAsync(string cameraId, string url, bool live,
        VideoReadOptions o, CancellationToken ct)
    {
        if (!live && !File.Exists(url))
            throw StreamException.Create(cameraId, url, StreamFailureKind.NotFound, "no such file");

        var gop = o.KeyframeInterval ?? o.KnownStream?.KeyframeInterval;
        if (gop is null && o.KnownStream is null && !live && o.Decode == DecodeMode.Auto && o.SampleInterval > TimeSpan.Zero)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(o.OpenTimeout);
            try
            {
                gop = await FileGopProbe.WidestGapAsync(url, o.FfmpegPath, GopProbePackets, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                gop = null; // unknown GOP: decode every frame, which is always correct
            }
        }
        return (gop, o.Decode switch
        {
            DecodeMode.KeyframesOnly => true,
            DecodeMode.AllFrames => false,
            _ => gop is { } g && o.AllowsKeyframesOnly(g),
        });
    }

    /// <summary>An rtsps camera the relay did not trust or reach: that, not ffmpeg's closed connection, is the reason.</summary>
    internal static void ThrowIfRelayFailed(string cameraId, string url, RtspsRelay? relay)
    {
        if (relay?.Failure is { } f) throw StreamException.Create(cameraId, url, f.Kind, f.Reason);
    }

    /// <summary>How ffmpeg ended, after the frames stopped: an unreadable frame size or a failing exit, with its reason.</summary>
    private static void ThrowIfFfmpegFailed(string cameraId, string url, FrameLine? badFrame, FfmpegProcess ffmpeg, ShowInfoReader stderr)
    {
        if (badFrame is { } bad)
            throw StreamException.Create(cameraId, url, StreamFailureKind.ProcessFailed,
                $"ffmpeg announced a frame of {bad.Width}x{bad.Height}: cannot read it");
        if (ffmpeg.ExitCode != 0)
        {
            var (kind, reason) = FfmpegErrors.Classify(stderr.Tail());
            throw StreamException.Create(cameraId, url, kind, $"ffmpeg exited with code {ffmpeg.ExitCode}: {reason}");
        }
    }
}
