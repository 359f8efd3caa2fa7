using CitySight.Domain;

namespace CitySight.Ingest;

/// <summary>How frames are decoded before sampling.</summary>
public enum DecodeMode
{
    /// <summary>
    /// Keyframes only when the keyframe interval (GOP) is known and sampling on keyframes keeps the
    /// period close to the sample interval (see <see cref="VideoReadOptions.AllowsKeyframesOnly"/>);
    /// otherwise every frame. A file's GOP is probed from its packets; a live stream's is learnt
    /// while streaming (<see cref="VideoReadOptions.OnKeyframeInterval"/>) and passed back in on the next connection.
    /// </summary>
    Auto,
    /// <summary>Always `-skip_frame nokey`: only keyframes are decoded (cheapest; sample period snaps to the GOP grid).</summary>
    KeyframesOnly,
    /// <summary>Decode every frame and select by time.</summary>
    AllFrames,
}

/// <summary>
/// What the reader found when it opened a stream, and how it decided to decode it. Width, Height, Codec and FrameRate are
/// the source's, as ffmpeg described it on opening (no ffprobe: FrameRate may be 0 when the opening was kept short);
/// delivered frames may be smaller (<see cref="VideoReadOptions.MaxFrameWidth"/>) or change size with the stream.
/// </summary>
public sealed record StreamInfo(
    int Width,
    int Height,
    string Codec,
    double FrameRate,
    bool IsLive,
    TimeSpan? KeyframeInterval,
    bool KeyframesOnly);

/// <summary>Options for one <see cref="VideoReader.ReadAsync"/> pass.</summary>
public sealed record VideoReadOptions
{
    /// <summary>Minimum spacing of delivered frames in capture time. Zero delivers every decoded frame.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Files only: play at native rate (`-re`) instead of as fast as it decodes.</summary>
    public bool RealTime { get; init; } = true;

    /// <summary>Files only: start again at the end (`-stream_loop -1`); capture times keep increasing.</summary>
    public bool Loop { get; init; }

    /// <summary>Files only: the capture time of the first frame; null = the file's last-write time.</summary>
    public DateTimeOffset? FileStartsAt { get; init; }

    public DecodeMode Decode { get; init; } = DecodeMode.Auto;

    /// <summary>A GOP already known for this source (e.g. measured on a previous connection); used by <see cref="DecodeMode.Auto"/>.</summary>
    public TimeSpan? KeyframeInterval { get; init; }

    /// <summary>
    /// In <see cref="DecodeMode.Auto"/>, keyframes-only is chosen only if sampling on the keyframe grid stretches the
    /// period to at most this multiple of the interval: ceil(interval/GOP)·GOP ≤ factor·interval (so GOP ≤ interval too).
    /// </summary>
    public double MaxKeyframeStretch { get; init; } = 1.5;

    /// <summary>
    /// The stream as seen on a previous connection (e.g. when only the decode mode changes): its GOP spares a file's GOP
    /// probe and its codec lets <see cref="DecoderKind.Qsv"/> name its decoder. Its KeyframesOnly is ignored: the mode is
    /// decided from <see cref="Decode"/> as usual.
    /// </summary>
    public StreamInfo? KnownStream { get; init; }

    /// <summary>Connecting and getting the first frame must finish within this time.</summary>
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Longest wait for the next frame once streaming; null: max(10 s, 3 × max(sample interval, GOP)) with the GOP known
    /// beforehand or measured on the stream (a keyframes-only stream delivers one frame per GOP).
    /// </summary>
    public TimeSpan? StallTimeout { get; init; }

    /// <summary>Software decoder threads (`-threads`); 0 lets ffmpeg choose. 1 suits many cameras on few cores.</summary>
    public int DecoderThreads { get; init; }

    /// <summary>Where frames are decoded (see <see cref="DecoderArguments"/>).</summary>
    public DecoderKind Decoder { get; init; } = DecoderKind.Cpu;

    /// <summary>The hardware decoder's device (VA-API render node, CUDA GPU index, QSV device); null: the default.</summary>
    public string? DecoderDevice { get; init; }

    /// <summary>
    /// Frames wider or taller than this are scaled down by ffmpeg, aspect ratio kept, before the BGR conversion, so the
    /// pipe carries only what the pipeline needs (e.g. 1280 for a 640 detector, with evidence still legible). Never scales
    /// up. 0: no limit. Applies to each frame's own size, so it holds across a resolution change too.
    /// </summary>
    public int MaxFrameWidth { get; init; }

    /// <inheritdoc cref="MaxFrameWidth"/>
    public int MaxFrameHeight { get; init; }

    /// <summary>The camera's group, for metric labels.</summary>
    public string GroupId { get; init; } = "";

    /// <summary>
    /// The largest picture decoded (ffmpeg's <c>-max_pixels</c>) and the largest frame accepted from the pipe, in pixels;
    /// 0: <see cref="InputLimits.DefaultMaxFramePixels"/> (4K). A larger stream fails with InvalidData.
    /// </summary>
    public long MaxFramePixels { get; init; }

    /// <summary>The Sequence given to the first frame of this pass (a camera keeps counting across reconnects).</summary>
    public long FirstSequence { get; init; }

    /// <summary>Called once per pass when the stream is open, before the first frame is delivered (on the reading thread).</summary>
    public Action<StreamInfo>? OnOpened { get; init; }

    /// <summary>Called from ffmpeg's stderr reader when the GOP has been measured on the stream (and again if it changes).</summary>
    public Action<TimeSpan>? OnKeyframeInterval { get; init; }

    /// <summary>
    /// PEM file of the CA(s) that rtsps cameras' certificates must chain to; null: rtsps is encryption only (ffmpeg 5.1
    /// cannot verify). When set, ffmpeg reads an rtsps camera through a local <see cref="RtspsRelay"/> that verifies it.
    /// </summary>
    public string? RtspsCaFile { get; init; }

    public string FfmpegPath { get; init; } = "ffmpeg";

    /// <summary>Options for a configured camera: its sampling, file playback, decoder and group.</summary>
    public static VideoReadOptions For(Camera camera)
    {
        ArgumentNullException.ThrowIfNull(camera);
        return new()
        {
            SampleInterval = camera.SampleInterval,
            RealTime = camera.RealTime,
            Loop = camera.Loop,
            FileStartsAt = camera.StartsAt,
            Decoder = camera.Decoder,
            GroupId = camera.GroupId,
        };
    }

    private static readonly TimeSpan MinStallTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The stall timeout for a stream with this GOP (null: not known yet).</summary>
    public TimeSpan StallTimeoutFor(TimeSpan? gop)
    {
        if (StallTimeout is { } fixedTimeout) return fixedTimeout;
        var period = gop is { } g && g > SampleInterval ? g : SampleInterval;
        var scaled = period * 3;
        return scaled > MinStallTimeout ? scaled : MinStallTimeout;
    }

    /// <summary>Whether keyframe-only sampling keeps the period within <see cref="MaxKeyframeStretch"/> of the interval.</summary>
    public bool AllowsKeyframesOnly(TimeSpan gop)
    {
        if (gop <= TimeSpan.Zero || SampleInterval <= TimeSpan.Zero) return false;
        // A millisecond of slack: measured GOPs are 0.99999 or 1.00001 s as often as 1 s.
        var slack = TimeSpan.FromMilliseconds(1);
        if (gop > SampleInterval + slack) return false;
        var steps = Math.Ceiling((SampleInterval - slack).Ticks / (double)gop.Ticks);
        return steps * gop.Ticks <= MaxKeyframeStretch * SampleInterval.Ticks + slack.Ticks;
    }
}
