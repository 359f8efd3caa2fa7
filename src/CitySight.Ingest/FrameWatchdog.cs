using System.Diagnostics;

namespace CitySight.Ingest;

/// <summary>
/// Kills ffmpeg when frames stop: the first frame must come within the open timeout, each later one within the stall
/// timeout of the moment the reader started waiting for it. Time the consumer spends with a frame (backpressure) is not
/// counted. Per frame the reader only stamps two fields; the timer re-arms itself, so nothing is allocated or
/// rescheduled per frame.
/// </summary>
internal sealed class FrameWatchdog : IDisposable
{
    private readonly Timer _timer;
    private readonly Action _expire;
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly TimeSpan _openTimeout;
    private long _stallTicks;
    private long _waitingSince; // Stopwatch timestamp; 0 while the consumer holds a frame
    private int _framesSeen;
    private int _fired;
    private int _disposed;

    public FrameWatchdog(TimeSpan openTimeout, TimeSpan stallTimeout, Action expire)
    {
        _openTimeout = openTimeout > TimeSpan.Zero ? openTimeout : TimeSpan.Zero;
        _stallTicks = stallTimeout.Ticks;
        _expire = expire;
        _waitingSince = _started;
        _timer = new Timer(static s => ((FrameWatchdog)s!).Check(), this, _openTimeout, Timeout.InfiniteTimeSpan);
    }

    public TimeSpan StallTimeout => TimeSpan.FromTicks(Volatile.Read(ref _stallTicks));

    /// <summary>Whether it killed ffmpeg.</summary>
    public bool Fired => Volatile.Read(ref _fired) != 0;

    /// <summary>Whether it fired before any frame came (an open that never produced a picture).</summary>
    public bool FiredBeforeFirstFrame { get; private set; }

    /// <summary>A longer (or shorter) allowance once the stream's GOP is known; applies from the next check.</summary>
    public void SetStallTimeout(TimeSpan timeout) => Volatile.Write(ref _stallTicks, Math.Max(timeout.Ticks, TimeSpan.TicksPerSecond));

    /// <summary>The reader is about to wait for the next frame.</summary>
    public void Waiting() => Volatile.Write(ref _waitingSince, Stopwatch.GetTimestamp());

    /// <summary>A frame has been read; the clock stops until <see cref="Waiting"/>.</summary>
    public void FrameArrived()
    {
        Volatile.Write(ref _framesSeen, 1);
        Volatile.Write(ref _waitingSince, 0);
    }

    private void Check()
    {
        if (Volatile.Read(ref _disposed) != 0 || Fired) return;
        var now = Stopwatch.GetTimestamp();
        TimeSpan left;
        var first = Volatile.Read(ref _framesSeen) == 0;
        if (first)
        {
            left = _openTimeout - Stopwatch.GetElapsedTime(_started, now);
        }
        else
        {
            var since = Volatile.Read(ref _waitingSince);
            var stall = StallTimeout;
            // Not waiting: look again one stall period later (the consumer may hold the frame for long).
            left = since == 0 ? stall : stall - Stopwatch.GetElapsedTime(since, now);
        }

        if (left > TimeSpan.Zero)
        {
            try { _timer.Change(left, Timeout.InfiniteTimeSpan); }
            catch (ObjectDisposedException) { }
            return;
        }
        FiredBeforeFirstFrame = first;
        Volatile.Write(ref _fired, 1);
        _expire();
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, 1);
        _timer.Dispose();
    }
}
