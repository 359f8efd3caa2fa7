using System.Buffers;
using CitySight.Domain;
using CitySight.Imaging;

namespace CitySight.Rules;

/// <summary>
/// What one camera's scene looked like a little while ago, so a static object's case can show the scene before the
/// object came beside the frame that raised it. A few small colour views (at most <see cref="MaxWidth"/> across) are
/// taken at an interval on frame time, round-robin; when a static object is first tracked, the oldest view (taken
/// before it was put down, since the static-object pass reports an object only once it has settled, well within two
/// intervals) is copied aside for that track until its case is raised or the track ends.
/// Allocation-free per frame in steady state: the views' buffers are made once; a pin rents from the shared pool.
/// Not thread-safe: the case-raising loop alone uses it.
/// </summary>
public sealed class SceneMemory : IDisposable
{
    /// <summary>Width of the remembered views (height in proportion): enough to recognise the place, small to keep.</summary>
    public const int MaxWidth = 480;

    private const int Views = 3;
    private readonly TimeSpan _interval;
    private readonly byte[]?[] _views = new byte[Views][];
    private readonly DateTimeOffset[] _takenAt = new DateTimeOffset[Views];
    private readonly Dictionary<long, SceneView> _pinned = [];
    private int _next;
    private int _filled;
    private int _width;
    private int _height;

    /// <param name="interval">Time between two views; the oldest is then two to three intervals old.</param>
    public SceneMemory(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _interval = interval;
    }

    /// <summary>Views pinned for static objects now (for inspection and tests).</summary>
    public int Pinned => _pinned.Count;

    /// <summary>Takes a view of <paramref name="frame"/> when the interval has passed since the last one.</summary>
    public void Observe(Frame frame)
    {
        if (_filled > 0)
        {
            var last = _takenAt[(_next + Views - 1) % Views];
            // A clock gone back (a stream restarted) starts the memory again.
            if (frame.CaptureTime < last) _filled = 0;
            else if (frame.CaptureTime - last < _interval) return;
        }
        var (w, h) = SizeOf(frame.Width, frame.Height);
        if (w != _width || h != _height)
        {
            // A new resolution: every view is remade at its size.
            _width = w;
            _height = h;
            Array.Clear(_views);
            _filled = 0;
        }
        var view = _views[_next] ??= new byte[w * h * 3];
        EvidenceImage.Downscale(frame.Bgr, frame.Width, frame.Height, view, w, h);
        _takenAt[_next] = frame.CaptureTime;
        _next = (_next + 1) % Views;
        if (_filled < Views) _filled++;
    }

    /// <summary>
    /// Keeps the oldest view for track <paramref name="trackId"/> (a static object just tracked) unless one is kept
    /// already; nothing when no view has been taken yet.
    /// </summary>
    public void Pin(long trackId)
    {
        if (_filled == 0 || _pinned.ContainsKey(trackId)) return;
        var oldest = (_next + Views - _filled) % Views;
        var length = _width * _height * 3;
        var copy = ArrayPool<byte>.Shared.Rent(length);
        _views[oldest].AsSpan(0, length).CopyTo(copy);
        _pinned[trackId] = new SceneView(copy, _width, _height, _takenAt[oldest]);
    }

    /// <summary>The view kept for a track, or null; it stays kept until <see cref="Release"/>.</summary>
    public SceneView? PinnedFor(long trackId) => _pinned.GetValueOrDefault(trackId);

    /// <summary>Gives back what was kept for a track (raised, or gone).</summary>
    public void Release(long trackId)
    {
        if (_pinned.Remove(trackId, out var view)) ArrayPool<byte>.Shared.Return(view.Bgr);
    }

    public void Dispose()
    {
        foreach (var view in _pinned.Values) ArrayPool<byte>.Shared.Return(view.Bgr);
        _pinned.Clear();
    }

    private static (int Width, int Height) SizeOf(int width, int height)
    {
        if (width <= MaxWidth) return (width, height);
        // Even sizes: JPEG's chroma halves them.
        var h = Math.Max(2, (int)Math.Round((double)height * MaxWidth / width / 2) * 2);
        return (MaxWidth, h);
    }
}
