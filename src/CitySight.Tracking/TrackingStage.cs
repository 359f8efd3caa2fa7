using System.Collections.Concurrent;
using System.Threading.Channels;
using CitySight.Domain;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CitySight.Tracking;

/// <summary>
/// The tracking stage: each camera's detected frames become tracked frames. One <see cref="CameraTracker"/> per camera,
/// created on its first frame and fed only the detections of the case types the camera looks for (on a camera asking for
/// street stalls, also persons and vendor items: <see cref="StallCue"/>); a camera changed at
/// run time gets a fresh tracker from its next frame on, a removed one loses its tracker and its frames still in flight
/// are dropped. Runs on frame time only, like the tracker.
/// <see cref="Track"/> is not thread-safe: one loop calls it (<see cref="RunAsync"/>); camera changes may come from any
/// thread and are applied on that loop, between frames. Allocates nothing per frame in steady state: the tracked frames
/// are pooled here and come back when the rules dispose them.
/// </summary>
public sealed class TrackingStage
{
    private readonly TrackerOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<string, Camera> _cameras = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CameraTracker> _trackers = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<CameraUpdate> _cameraUpdates = new();
    private readonly List<Detection> _wanted = [];
    private readonly Stack<TrackedFrame> _free = new();
    private readonly Action<TrackedFrame> _recycle;

    /// <param name="options">The trackers' settings, the stationary radius per case type included (the host sets it from the rules).</param>
    public TrackingStage(IEnumerable<Camera> cameras, TrackerOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(cameras);
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = logger ?? NullLogger.Instance;
        foreach (var camera in cameras) _cameras[camera.Id] = camera;
        _recycle = f => { lock (_free) _free.Push(f); };
    }

    /// <summary>Cameras with a tracker now, i.e. seen since they were added or last changed (for inspection and tests).</summary>
    public int Trackers => _trackers.Count;

    /// <summary>A camera added or changed at run time: its frames are tracked afresh (new ids) from its next frame on.</summary>
    public void ReplaceCamera(Camera camera) => _cameraUpdates.Enqueue(new CameraUpdate(camera.Id, camera));

    /// <summary>A camera removed at run time: its tracker is dropped and frames of it still in flight are skipped.</summary>
    public void RemoveCamera(string cameraId) => _cameraUpdates.Enqueue(new CameraUpdate(cameraId, null));

    private readonly record struct CameraUpdate(string Id, Camera? Camera);

    /// <summary>
    /// Tracks one frame; the result owns the frame. Null when the frame's camera is not (or no longer) known: the frame
    /// is disposed. On an exception the frame is still the caller's.
    /// </summary>
    public TrackedFrame? Track(DetectedFrame detected)
    {
        ArgumentNullException.ThrowIfNull(detected);
        ApplyCameraUpdates();
        var frame = detected.Frame;
        if (!_cameras.TryGetValue(frame.CameraId, out var camera))
        {
            // A frame of a camera removed at run time, still in flight when it stopped.
            frame.Dispose();
            return null;
        }
        var stalls = ModelFreeTypes.AsksForStalls(camera);
        if (!_trackers.TryGetValue(camera.Id, out var tracker))
            _trackers[camera.Id] = tracker = new CameraTracker(stalls ? _options with { TrackAllClasses = true } : _options);

        // Only what the camera looks for is tracked (and so can ever become a case).
        _wanted.Clear();
        var detections = detected.Detections;
        for (var i = 0; i < detections.Count; i++)
        {
            var d = detections[i];
            if (stalls && StallCue(d, camera) is { } cue)
            {
                _wanted.Add(cue);
                continue;
            }
            if (d.CaseType is not { } type) continue;
            if (camera.Detectors.Count > 0 && !camera.Detectors.Contains(type)) continue;
            _wanted.Add(d);
        }
        var tracks = tracker.Update(frame.CaptureTime, _wanted, frame.Width, frame.Height);
        return Rent().Fill(frame, camera, tracks, tracker.Removed);
    }

    /// <summary>
    /// On a camera asking for street stalls, what the stall rule needs followed: a person (the vendor) as a
    /// street_stall track, and vendor items (goods put down, an umbrella, a table, a cart) by their class, with no case
    /// type of their own unless the camera asks for the one they map to. Null: not a stall cue.
    /// </summary>
    private static Detection? StallCue(in Detection d, Camera camera)
    {
        if (d.CaseType is null && d.ClassName == ModelFreeTypes.PersonClass) return d with { CaseType = ModelFreeTypes.StreetStall };
        if (!ModelFreeTypes.VendorItemClasses.Contains(d.ClassName)) return null;
        return d.CaseType is { } type && camera.Detectors.Contains(type) ? d : d with { CaseType = null };
    }

    /// <summary>
    /// Tracks every frame of <paramref name="input"/> into <paramref name="output"/> (which waits when the rules fall
    /// behind) until the input completes or <paramref name="ct"/> is cancelled; then completes the output, so the
    /// stage after this one drains and finishes too.
    /// </summary>
    public async Task RunAsync(ChannelReader<DetectedFrame> input, ChannelWriter<TrackedFrame> output, CancellationToken ct)
    {
        try
        {
            await foreach (var detected in input.ReadAllAsync(ct).ConfigureAwait(false))
            {
                TrackedFrame? tracked;
                try
                {
                    tracked = Track(detected);
                }
                catch (Exception ex)
                {
                    detected.Frame.Dispose();
                    _logger.LogError(ex, "Tracking failed on a frame from camera {Camera}", detected.Frame.CameraId);
                    continue;
                }
                if (tracked is null) continue;
                try
                {
                    await output.WriteAsync(tracked, ct).ConfigureAwait(false);
                }
                catch
                {
                    tracked.Dispose();
                    throw;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        finally
        {
            output.TryComplete();
        }
    }

    private void ApplyCameraUpdates()
    {
        while (_cameraUpdates.TryDequeue(out var u))
        {
            _trackers.Remove(u.Id);
            if (u.Camera is null) _cameras.Remove(u.Id);
            else _cameras[u.Id] = u.Camera;
        }
    }

    private TrackedFrame Rent()
    {
        lock (_free)
            if (_free.TryPop(out var f)) return f;
        return new TrackedFrame(_recycle);
    }
}
