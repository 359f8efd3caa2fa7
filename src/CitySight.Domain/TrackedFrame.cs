namespace CitySight.Domain;

/// <summary>
/// One camera's frame after tracking, as the rules take it: the frame, the camera as it was defined when the frame was
/// tracked (the detectors its tracks were filtered to, the zones the rules apply), every confirmed track kept (Confirmed:
/// seen on this frame; Lost: missed, kept a while), and the ids of the tracks this update removed.
/// The tracks are copied into buffers this object owns (a tracker reuses its lists on its camera's next frame, which
/// may be tracked before the rules read this one). The tracking stage pools these objects, buffers included, so a frame
/// costs no allocation in steady state.
/// Owns its frame: exactly one stage holds it at a time, and the last disposes it (once), which disposes the frame and
/// hands this object back to its pool.
/// </summary>
public sealed class TrackedFrame : IDisposable
{
    private readonly Action<TrackedFrame>? _recycle;
    private Track[] _tracks = new Track[8];
    private long[] _removed = new long[4];
    private int _trackCount;
    private int _removedCount;
    private Frame? _frame;
    private Camera? _camera;

    /// <param name="recycle">Called with this object once it is disposed (its pool); null: not pooled.</param>
    public TrackedFrame(Action<TrackedFrame>? recycle = null) => _recycle = recycle;

    public Frame Frame => _frame ?? throw new ObjectDisposedException(nameof(TrackedFrame));

    /// <summary>The camera's definition the frame was tracked under: a new instance means a new tracker (its ids start again).</summary>
    public Camera Camera => _camera ?? throw new ObjectDisposedException(nameof(TrackedFrame));

    /// <summary>Every confirmed track the tracker keeps after this frame, in creation order (tentative ones never).</summary>
    public ReadOnlySpan<Track> Tracks => _tracks.AsSpan(0, _trackCount);

    /// <summary>Ids of the confirmed tracks this frame's update removed (lost too long, or the clock went back).</summary>
    public ReadOnlySpan<long> RemovedTrackIds => _removed.AsSpan(0, _removedCount);

    /// <summary>
    /// Fills an empty object: takes ownership of <paramref name="frame"/>, copies the tracks and the removed tracks' ids
    /// (growing its buffers when they are too small, which a steady scene does not need).
    /// </summary>
    public TrackedFrame Fill(Frame frame, Camera camera, IReadOnlyList<Track> tracks, IReadOnlyList<Track> removed)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(camera);
        if (_frame is not null) throw new InvalidOperationException("this tracked frame still holds a frame");
        if (_tracks.Length < tracks.Count) _tracks = new Track[Math.Max(tracks.Count, _tracks.Length * 2)];
        if (_removed.Length < removed.Count) _removed = new long[Math.Max(removed.Count, _removed.Length * 2)];
        // Index loops: foreach over the interfaces would box an enumerator per frame.
        for (var i = 0; i < tracks.Count; i++) _tracks[i] = tracks[i];
        for (var i = 0; i < removed.Count; i++) _removed[i] = removed[i].Id;
        _trackCount = tracks.Count;
        _removedCount = removed.Count;
        _camera = camera;
        _frame = frame;
        return this;
    }

    public void Dispose()
    {
        var frame = Interlocked.Exchange(ref _frame, null);
        if (frame is null) return;
        frame.Dispose();
        _camera = null;
        // The copies hold strings (class names, case types): cleared so a pooled object keeps nothing alive.
        Array.Clear(_tracks, 0, _trackCount);
        _trackCount = 0;
        _removedCount = 0;
        _recycle?.Invoke(this);
    }
}
