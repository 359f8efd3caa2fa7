namespace CitySight.Ingest;

/// <summary>
/// A camera's frames per second (after sampling), counted over windows of <see cref="Window"/>: one comparison and an
/// increment per frame, no allocation, so the console's wall and detail can show a true rate for every camera.
/// Not thread-safe: its owner guards it (the camera source's status lock).
/// </summary>
internal struct FrameRate
{
    /// <summary>Long enough to smooth a keyframe-only stream's one frame every few seconds, short enough to show a stall.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private DateTimeOffset? _windowStart;
    private long _inWindow;
    private double? _last;

    /// <summary>A frame arrived at <paramref name="at"/> (wall clock).</summary>
    public void Add(DateTimeOffset at)
    {
        // The first frame only opens the window: n frames after it are n intervals, the rate of a steady stream exactly.
        if (_windowStart is not { } start) { _windowStart = at; return; }
        _inWindow++;
        var elapsed = at - start;
        if (elapsed < Window) return;
        _last = _inWindow / elapsed.TotalSeconds;
        _windowStart = at;
        _inWindow = 0;
    }

    /// <summary>
    /// Frames per second over the last full window; once a window runs past its length with too few frames to close
    /// it (the stream slowed or stopped) the rate of that window so far, falling to 0. Null before one window has passed.
    /// </summary>
    public readonly double? PerSecond(DateTimeOffset now)
    {
        if (_windowStart is not { } start) return null;
        var open = now - start;
        return open > Window ? _inWindow / open.TotalSeconds : _last;
    }
}
