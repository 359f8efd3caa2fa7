namespace CitySight.Ingest;

/// <summary>
/// Capture time of each frame: anchor + (pts − first pts).
/// <list type="bullet">
/// <item>A file's anchor is fixed (its last-write time), so a replay gives the same times every time.</item>
/// <item>A live stream's anchor starts as the wall clock when the first frame arrived, and moves earlier whenever a
/// frame would otherwise be stamped clearly later than it arrived (a picture cannot be taken after it is received):
/// frames that ffmpeg buffered while connecting arrive in a burst, and only then is it visible that the first one was
/// older. Arrival jitter below <see cref="ArrivalTolerance"/> is ignored, or it would nudge samples closer than the
/// interval. The anchor never moves later, so times stay monotonic, and a consumer that reads slowly does not distort them.</item>
/// <item>When a stream's timestamps jump back (camera clock reset, wrap-around) the clock rebases one step after the
/// last time it gave.</item>
/// </list>
/// </summary>
internal sealed class CaptureClock
{
    internal static readonly TimeSpan ArrivalTolerance = TimeSpan.FromMilliseconds(500);

    private readonly bool _live;
    private readonly DateTimeOffset _fileAnchor;
    private readonly TimeSpan _step;
    private DateTimeOffset? _anchor;
    private TimeSpan _firstPts;
    private TimeSpan _lastPts;
    private DateTimeOffset _last;

    /// <param name="step">Advance after a discontinuity (the sample interval, so the next frame is not dropped as too close).</param>
    public CaptureClock(bool live, DateTimeOffset fileAnchor, TimeSpan step)
    {
        _live = live;
        _fileAnchor = fileAnchor;
        _step = step > TimeSpan.Zero ? step : TimeSpan.FromMilliseconds(1);
    }

    /// <param name="pts">The frame's timestamp; null if the stream gave none (the frame is placed one step later).</param>
    /// <param name="arrival">Wall clock when the frame was read (used for live streams only).</param>
    public DateTimeOffset Next(TimeSpan? pts, DateTimeOffset arrival)
    {
        if (_anchor is null)
        {
            _anchor = _live ? arrival : _fileAnchor;
            _firstPts = _lastPts = pts ?? TimeSpan.Zero;
            return _last = _anchor.Value;
        }

        var p = pts ?? _lastPts + _step;
        if (p < _lastPts)
        {
            var next = _last + _step;
            _anchor = _live && arrival > next ? arrival : next;
            _firstPts = p;
        }
        _lastPts = p;

        var t = _anchor.Value + (p - _firstPts);
        if (_live && t > arrival + ArrivalTolerance)
        {
            _anchor = _anchor.Value - (t - arrival);
            t = arrival;
        }
        return _last = t;
    }
}
