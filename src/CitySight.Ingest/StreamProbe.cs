using System.Diagnostics;
using System.Globalization;
using CitySight.Domain;

namespace CitySight.Ingest;

/// <summary>What <see cref="StreamProbe.ProbeAsync"/> found. Either the stream's description or a failure; never a password.</summary>
public sealed record ProbeResult
{
    /// <summary>The URL with its password replaced by ***.</summary>
    public required string Url { get; init; }

    public bool IsLive { get; init; }

    /// <summary>Null when the probe succeeded.</summary>
    public StreamFailureKind? FailureKind { get; init; }

    /// <summary>Why it failed, in ffmpeg's words (scrubbed); null when it succeeded.</summary>
    public string? Failure { get; init; }

    public bool Succeeded => FailureKind is null;

    /// <summary>e.g. "h264", "hevc".</summary>
    public string? Codec { get; init; }

    public int Width { get; init; }
    public int Height { get; init; }

    /// <summary>Frames per second as the stream states it (else measured from the packets); 0 if unknown.</summary>
    public double FrameRate { get; init; }

    /// <summary>Keyframe spacing in time: the widest gap between the first keyframes seen; null if fewer than two were seen in time.</summary>
    public TimeSpan? Gop { get; init; }

    /// <summary>Keyframe spacing in frames (the GOP in seconds × the frame rate, else packets counted).</summary>
    public int? GopFrames { get; init; }

    /// <summary>Keyframes seen (the GOP is measured over up to three).</summary>
    public int KeyframesSeen { get; init; }

    /// <summary>
    /// Video bitrate in bit/s: measured from the packets between the first and last keyframe seen, else as the source
    /// states it; null if neither.
    /// </summary>
    public long? BitRate { get; init; }

    /// <summary>How long the probe took.</summary>
    public TimeSpan Elapsed { get; init; }
}

/// <summary>
/// Describes a stream or file: codec, size, frame rate, GOP measured on the packets, bitrate. One ffmpeg process that
/// demuxes without decoding (<c>-c copy -f framecrc</c>: one line per packet with its timestamp, size and key flag) and
/// is killed once three keyframes have been seen — cheap on a file, about two GOPs of wall time on a live stream.
/// For diagnostics (e.g. a <c>citysight probe URL</c> command); the continuous reader does not need it.
/// </summary>
public static class StreamProbe
{
    private const int KeyframesWanted = 3;

    /// <summary>
    /// Probes <paramref name="url"/> (rtsp://…, http://… or a file path) within <paramref name="timeout"/>. Never throws for
    /// a bad source: the result carries the failure. Throws OperationCanceledException when <paramref name="ct"/> is cancelled.
    /// If the timeout ends the probe after the stream was described but before three keyframes, the result succeeds with
    /// what was measured (Gop null when fewer than two keyframes came).
    /// </summary>
    /// <param name="rtspsCaFile">See <see cref="VideoReadOptions.RtspsCaFile"/>.</param>
    public static async Task<ProbeResult> ProbeAsync(string url, TimeSpan timeout, CancellationToken ct = default, string ffmpegPath = "ffmpeg",
        string? rtspsCaFile = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        ct.ThrowIfCancellationRequested();
        var started = Stopwatch.StartNew();
        var live = VideoReader.IsNetworkUrl(url);
        var result = new ProbeResult { Url = Secrets.RedactUrl(url), IsLive = live };
        if (!live && !File.Exists(url))
            return result with { FailureKind = StreamFailureKind.NotFound, Failure = "no such file", Elapsed = started.Elapsed };

        FfmpegProcess ffmpeg;
        RtspsRelay? relay = null;
        try
        {
            relay = RtspsRelay.For("probe", url, rtspsCaFile);
            ffmpeg = VideoReader.Start("probe", url, ffmpegPath, BuildArguments(relay?.LocalUrl ?? url, live, timeout));
        }
        catch (StreamException e)
        {
            if (relay is not null) await relay.DisposeAsync().ConfigureAwait(false);
            return result with { FailureKind = e.Kind, Failure = e.Reason, Elapsed = started.Elapsed };
        }
        await using var __ = relay; // often null: the ConfigureAwait wrapper would not check
        await using var _ = ffmpeg.ConfigureAwait(false);
        var stderr = new ShowInfoReader(url, null);
        var stderrTask = stderr.RunAsync(ffmpeg);
        var timedOut = 0;
        using var timer = new Timer(_ =>
        {
            Interlocked.Exchange(ref timedOut, 1);
            ffmpeg.Kill();
        }, null, timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        await using var onCancel = ct.Register(ffmpeg.Kill).ConfigureAwait(false);

        var packets = new PacketLog();
        try
        {
            using var reader = new StreamReader(ffmpeg.Stdout);
            while (packets.Keyframes < KeyframesWanted)
            {
                string? line;
                try
                {
                    line = await reader.ReadLineAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (IOException)
                {
                    break; // killed
                }
                if (line is null) break;
                packets.Add(line);
            }
        }
        finally
        {
            timer.Dispose();
            ffmpeg.Kill();
            await ffmpeg.WaitForExitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            await stderrTask.ConfigureAwait(false);
        }
        ct.ThrowIfCancellationRequested();
        result = result with { Elapsed = started.Elapsed };

        var input = stderr.Input;
        if (input is null && relay?.Failure is { } refused)
            return result with { FailureKind = refused.Kind, Failure = Secrets.Scrub(refused.Reason, url) };
        if (input is null)
        {
            if (Volatile.Read(ref timedOut) != 0)
                return result with
                {
                    FailureKind = StreamFailureKind.Timeout,
                    Failure = stderr.Connected && relay is not { Reached: false }
                        ? $"connected, but the stream was not described within {Seconds(timeout)} s"
                        : $"no answer within {Seconds(timeout)} s",
                };
            var (kind, reason) = ffmpeg.ExitCode != 0
                ? FfmpegErrors.Classify(stderr.Tail())
                : (StreamFailureKind.NoVideo, "the source has no video stream");
            return result with { FailureKind = kind, Failure = Secrets.Scrub(reason, url) };
        }

        var fps = input.FrameRate > 0 ? input.FrameRate : packets.MeasuredFrameRate ?? 0;
        var gop = packets.WidestKeyframeGap;
        int? gopFrames = gop is { } g
            ? fps > 0 ? (int)Math.Round(g.TotalSeconds * fps) : packets.PacketsInWidestGap
            : null;
        return result with
        {
            Codec = input.Codec,
            Width = input.Width,
            Height = input.Height,
            FrameRate = fps,
            Gop = gop,
            GopFrames = gopFrames,
            KeyframesSeen = packets.Keyframes,
            BitRate = packets.MeasuredBitRate ?? input.BitRate ?? stderr.DeclaredBitRate,
        };
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);

    internal static FfmpegCommand BuildArguments(string url, bool live, TimeSpan timeout)
    {
        var a = new List<string> { "-hide_banner", "-nostdin", "-nostats", "-loglevel", live ? "verbose" : "info" };
        var input = new FfmpegInput(url, live);
        if (live) VideoReader.AddNetworkOptions(input, timeout + TimeSpan.FromSeconds(1));
        input.AddTo(a, maxPixels: null); // nothing is decoded
        // framecrc: "stream, dts, pts, duration, size, crc[, F=0xflags]" per packet; the flags are left out for a
        // plain keyframe. flush_packets: each line leaves at once, so the probe can stop at the third keyframe.
        a.AddRange(["-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-flush_packets", "1", "pipe:1"]);
        return new FfmpegCommand(a, input.Script());
    }

    /// <summary>Keyframes and sizes from framecrc lines.</summary>
    internal sealed class PacketLog
    {
        private (long Num, long Den) _timeBase = (1, 1);
        private readonly List<(long Pts, long BytesBefore, int PacketsBefore)> _keys = new();
        private long _bytes;
        private int _packets;

        public int Keyframes => _keys.Count;

        public void Add(string line)
        {
            if (line.StartsWith("#tb 0:", StringComparison.Ordinal))
            {
                var parts = line["#tb 0:".Length..].Trim().Split('/');
                if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var num) &&
                    long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var den) && num > 0 && den > 0)
                    _timeBase = (num, den);
                return;
            }
            if (line.StartsWith('#')) return;

            var f = line.Split(',', StringSplitOptions.TrimEntries);
            if (f.Length < 6 || f[0] != "0") return;
            if (!long.TryParse(f[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var pts) ||
                !long.TryParse(f[4], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
                return;
            var key = true;
            for (var i = 6; i < f.Length; i++)
            {
                if (!f[i].StartsWith("F=0x", StringComparison.Ordinal)) continue;
                key = int.TryParse(f[i].AsSpan(4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var flags) && (flags & 1) != 0;
            }
            if (key && (_keys.Count == 0 || pts > _keys[^1].Pts)) _keys.Add((pts, _bytes, _packets));
            _bytes += size;
            _packets++;
        }

        private TimeSpan Time(long pts) => ShowInfoReader.ToTime(pts, _timeBase);

        public TimeSpan? WidestKeyframeGap
        {
            get
            {
                TimeSpan? widest = null;
                for (var i = 1; i < _keys.Count; i++)
                {
                    var gap = Time(_keys[i].Pts) - Time(_keys[i - 1].Pts);
                    if (widest is null || gap > widest) widest = gap;
                }
                return widest;
            }
        }

        public int? PacketsInWidestGap
        {
            get
            {
                int? packets = null;
                long widest = -1;
                for (var i = 1; i < _keys.Count; i++)
                {
                    var gap = _keys[i].Pts - _keys[i - 1].Pts;
                    if (gap <= widest) continue;
                    widest = gap;
                    packets = _keys[i].PacketsBefore - _keys[i - 1].PacketsBefore;
                }
                return packets;
            }
        }

        /// <summary>Bits between the first and the last keyframe over their time apart: whole GOPs, no partial one.</summary>
        public long? MeasuredBitRate
        {
            get
            {
                if (_keys.Count < 2) return null;
                var seconds = (Time(_keys[^1].Pts) - Time(_keys[0].Pts)).TotalSeconds;
                if (seconds <= 0) return null;
                return (long)((_keys[^1].BytesBefore - _keys[0].BytesBefore) * 8 / seconds);
            }
        }

        public double? MeasuredFrameRate
        {
            get
            {
                if (_keys.Count < 2) return null;
                var seconds = (Time(_keys[^1].Pts) - Time(_keys[0].Pts)).TotalSeconds;
                return seconds > 0 ? (_keys[^1].PacketsBefore - _keys[0].PacketsBefore) / seconds : null;
            }
        }
    }
}
