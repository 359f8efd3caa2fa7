using System.Globalization;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using CitySight.Domain;

namespace CitySight.Ingest;

/// <summary>
/// Reads ffmpeg's stderr while frames are read from stdout. Two named showinfo filters print one line per frame:
/// `showinfo@all` sees every decoded frame (its iskey flags measure the GOP), `showinfo@out` sees exactly the frames
/// written to stdout, in the same order, and before their bytes are written — so the n-th `out` line is the n-th frame.
/// Timestamps are taken from the integer pts and the filter's time base (pts_time is printed with only 6 digits).
/// Everything else is kept, scrubbed of the URL's password, as the tail used to explain a failure.
/// </summary>
internal sealed partial class ShowInfoReader
{
    [GeneratedRegex(@"\G\[showinfo@(?<tag>all|out) @ [^\]]+\]\s+(?:config in time_base:\s*(?<num>\d+)/(?<den>\d+)|n:\s*\d+\s+pts:\s*(?<pts>-?\d+|NOPTS)(?:.*?iskey:(?<key>\d))?)")]
    private static partial Regex ShowInfoLine();

    private const int TailLines = 30;

    private readonly string _url;
    private readonly Channel<TimeSpan?> _framePts = Channel.CreateUnbounded<TimeSpan?>(new() { SingleReader = true, SingleWriter = true });
    private readonly Queue<string> _tail = new();
    private readonly Action<TimeSpan>? _onGop;
    private (long Num, long Den) _outBase = (1, 1), _allBase = (1, 1);
    private readonly List<TimeSpan> _keyframes = new();
    private TimeSpan? _reportedGop;

    public ShowInfoReader(string url, Action<TimeSpan>? onKeyframeInterval)
    {
        _url = url;
        _onGop = onKeyframeInterval;
    }

    public Task RunAsync(StreamReader stderr) => Task.Run(async () =>
    {
        try
        {
            while (await stderr.ReadLineAsync().ConfigureAwait(false) is { } line)
                Handle(line);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // the process was killed under us: what we have is all there is
        }
        finally
        {
            _framePts.Writer.TryComplete();
        }
    });

    /// <summary>
    /// The pts of the next frame on stdout (Pts null: the frame had none). Available false when stderr ended
    /// first, which only happens when ffmpeg died.
    /// </summary>
    public async ValueTask<(bool Available, TimeSpan? Pts)> NextFramePtsAsync(CancellationToken ct)
    {
        if (await _framePts.Reader.WaitToReadAsync(ct).ConfigureAwait(false) && _framePts.Reader.TryRead(out var pts))
            return (true, pts);
        return (false, null);
    }

    public IReadOnlyList<string> Tail()
    {
        lock (_tail) return _tail.ToArray();
    }

    internal void Handle(string line)
    {
        // Searched for anywhere in the line: a progress report ends in '\r', not '\n', and another message may share its line.
        var at = line.IndexOf("[showinfo@", StringComparison.Ordinal);
        var m = at >= 0 ? ShowInfoLine().Match(line, at) : Match.Empty;
        if (!m.Success)
        {
            // showinfo's second lines (color_range…) and the progress line say nothing about failures
            if (at >= 0 || line.StartsWith("frame=", StringComparison.Ordinal)) return;
            var clean = Secrets.Scrub(line, _url);
            lock (_tail)
            {
                _tail.Enqueue(clean);
                while (_tail.Count > TailLines) _tail.Dequeue();
            }
            return;
        }

        var isOut = m.Groups["tag"].ValueSpan is "out";
        if (m.Groups["num"].Success)
        {
            var tb = (long.Parse(m.Groups["num"].ValueSpan, CultureInfo.InvariantCulture),
                long.Parse(m.Groups["den"].ValueSpan, CultureInfo.InvariantCulture));
            if (tb.Item1 <= 0 || tb.Item2 <= 0) return;
            if (isOut) _outBase = tb; else _allBase = tb;
            return;
        }

        TimeSpan? pts = m.Groups["pts"].ValueSpan is "NOPTS"
            ? null
            : ToTime(long.Parse(m.Groups["pts"].ValueSpan, CultureInfo.InvariantCulture), isOut ? _outBase : _allBase);
        if (isOut)
        {
            _framePts.Writer.TryWrite(pts);
        }
        else if (pts is { } t && m.Groups["key"].ValueSpan is "1")
        {
            OnKeyframe(t);
        }
    }

    private void OnKeyframe(TimeSpan t)
    {
        if (_keyframes.Count > 0 && t <= _keyframes[^1])
        {
            _keyframes.Clear(); // timestamps went back: measure afresh
        }
        _keyframes.Add(t);
        if (_keyframes.Count > 5) _keyframes.RemoveAt(0);
        if (_keyframes.Count < 3) return;

        var gop = TimeSpan.Zero;
        for (var i = 1; i < _keyframes.Count; i++)
        {
            var gap = _keyframes[i] - _keyframes[i - 1];
            if (gap > gop) gop = gap;
        }
        // Report the first measurement and real changes only (not jitter of a frame or so).
        if (_reportedGop is { } last && Math.Abs((gop - last).Ticks) <= last.Ticks / 10) return;
        _reportedGop = gop;
        try
        {
            _onGop?.Invoke(gop);
        }
        catch (Exception)
        {
            // a faulty observer must not stop the timestamps (this thread feeds every frame's pts)
        }
    }

    private static TimeSpan ToTime(long pts, (long Num, long Den) tb) =>
        new((long)((Int128)pts * tb.Num * TimeSpan.TicksPerSecond / tb.Den));
}
