using System.Collections.Concurrent;
using System.Threading.Channels;
using CitySight.Domain;
using CitySight.Imaging;
using Microsoft.Extensions.Logging;

namespace CitySight.Rules;

/// <summary>
/// The case-raising stage: applies each camera's rules to tracked frames, then the district-wide dedup (same type, same
/// place on the ground, whichever camera saw it), and commits what that decides through the case sink: a new case with
/// its evidence pictures, a sighting of an open one (with the better picture when it is better), or nothing at a place
/// cooling down after a close. Cases no camera has seen for the dedup window are closed as gone; dispatch's closures
/// and rejections (<see cref="OnOutcome"/>) cool their places down.
/// <see cref="RaiseAsync"/> is not thread-safe: one loop calls it (<see cref="RunAsync"/>); camera changes and
/// outcomes may come from any thread and are applied on that loop, between frames.
/// <para>
/// Storage faults lose nothing: when the sink cannot be written (disk full, read-only, I/O error: an
/// <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/>), what was decided waits in memory, in order
/// (<see cref="StoreBacklog"/>), and is retried with a backoff on the wall clock, on the next frame once due or by
/// <see cref="RunAsync"/> when no frame comes. Site dedup knows a waiting case as waiting, so its later sightings are
/// that case (merged into what waits), and learns it is stored only once the sink has committed it.
/// <see cref="StoreProblem"/> says what is wrong meanwhile (the host reports not serving).
/// </para>
/// </summary>
public sealed partial class CaseRaiser
{
    private readonly ICaseSink _sink;
    private readonly ILogger _logger;
    private readonly RuleOptions _ruleOptions;
    private readonly Dictionary<string, Camera> _cameras = [];
    private readonly Dictionary<string, CameraGroup> _groupOf = [];
    private readonly Dictionary<string, CaseType> _caseTypes = [];
    private readonly Dictionary<string, CameraRules> _rules = [];
    private readonly Dictionary<string, GroundMapping> _mappings = [];
    // Per camera asking for garbage or billboards: its scene as it was, for the before / after pair.
    private readonly Dictionary<string, SceneMemory> _scenes = [];
    private readonly SiteDedup _site;
    private readonly ConcurrentQueue<Case> _outcomes = new();
    private readonly ConcurrentQueue<Case> _shared = new();
    private readonly ConcurrentQueue<CameraUpdate> _cameraUpdates = new();
    private readonly TimeProvider _time;
    private readonly StoreBacklog _backlog;
    private readonly int _maxWaitingCases;
    private volatile string? _storeProblem;
    private volatile int _waitingCases;
    private DateTimeOffset _faultSince;
    private bool _siteSeeded;

    /// <param name="groups">The camera groups with their cameras (a case carries its group's district, street, grid and unit).</param>
    /// <param name="caseTypes">Codes and names per case type; a type not listed is named by its id.</param>
    /// <param name="time">The wall clock the store retries are paced by (tests pass a manual one).</param>
    /// <param name="maxWaitingCases">
    /// How many new cases may wait in memory, with their pictures, while the store cannot be written (see
    /// <see cref="DefaultMaxWaitingCases"/>); past it a new case is not kept, and its place is raised again at a later sighting.
    /// </param>
    public CaseRaiser(ICaseSink sink, RuleOptions rules, SiteDedupOptions dedup, IEnumerable<CameraGroup> groups,
        IEnumerable<CaseType> caseTypes, ILogger logger, TimeProvider? time = null, int maxWaitingCases = DefaultMaxWaitingCases)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxWaitingCases);
        _maxWaitingCases = maxWaitingCases;
        _time = time ?? TimeProvider.System;
        _backlog = new StoreBacklog(_time);
        _sink = sink ?? throw new ArgumentNullException(nameof(sink));
        _ruleOptions = rules ?? throw new ArgumentNullException(nameof(rules));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        foreach (var g in groups)
            foreach (var c in g.Cameras)
            {
                _cameras.Add(c.Id, c);
                _groupOf.Add(c.Id, g);
            }
        _caseTypes = caseTypes.ToDictionary(t => t.Id);
        _site = new SiteDedup(dedup);
        foreach (var camera in _cameras.Values) _mappings[camera.Id] = MappingOf(camera);
        if (!EvidenceCaption.HasCjkFont)
            _logger.LogWarning("No Chinese font found ({Source}): evidence captions in Chinese come out as empty boxes; install Debian's {Package}",
                EvidenceCaption.FontSource, EvidenceCaption.FontPackage);
    }

    /// <summary>The district-wide dedup memory (for inspection and for dispatch feedback).</summary>
    public SiteDedup Site => _site;

    /// <summary>
    /// Null while the case store takes every write; else why it does not (the fault, since when, how much waits in
    /// memory). The host reports NOT_SERVING with this as the reason. Readable from any thread.
    /// </summary>
    public string? StoreProblem => _storeProblem;

    /// <summary>New cases decided but not yet stored (readable from any thread).</summary>
    public int WaitingCases => _waitingCases;

    /// <summary>Raised on the stage's loop whenever <see cref="StoreProblem"/> changes (null: the store took everything again).</summary>
    public event Action<string?>? StoreProblemChanged;

    /// <summary>
    /// A case's state changed in the store. Dispatch's closures and rejections (through delivery) cool the place down,
    /// applied on this stage's loop, in order; other changes are ignored. The host subscribes the store's StateChanged.
    /// </summary>
    public void OnOutcome(Case c)
    {
        if (c.State.IsFinal()) _outcomes.Enqueue(c);
    }

    /// <summary>
    /// A case as the shared store has it now, whichever node wrote it (a cluster's nodes follow the one feed): one this
    /// node did not raise is remembered at its place, so a camera here that sees the same object joins it instead of
    /// raising a second case; a later sighting keeps it open here; closed or rejected, its place cools down here too.
    /// Applied on this stage's loop, between frames.
    /// </summary>
    public void OnSharedCase(Case c) => _shared.Enqueue(c);

    /// <summary>
    /// A camera added or changed at run time (configuration reload), with its group: it gets fresh rules and ground
    /// mapping from its next frame on. Applied on this stage's loop, between frames.
    /// </summary>
    public void ReplaceCamera(Camera camera, CameraGroup group) => _cameraUpdates.Enqueue(new CameraUpdate(camera.Id, camera, group));

    /// <summary>A camera removed at run time: its rules are dropped and frames of it still in flight are skipped.</summary>
    public void RemoveCamera(string cameraId) => _cameraUpdates.Enqueue(new CameraUpdate(cameraId, null, null));

    private sealed record CameraUpdate(string Id, Camera? Camera, CameraGroup? Group);

    /// <summary>
    /// Raises cases from every tracked frame of <paramref name="input"/> until it completes or <paramref name="ct"/> is
    /// cancelled, disposing each frame once done with it. A frame that fails is logged and skipped. While writes wait for
    /// the store, they are retried when due even if no frame comes; at the end, one last try.
    /// </summary>
    public async Task RunAsync(ChannelReader<TrackedFrame> input, CancellationToken ct)
    {
        try
        {
            Task<bool>? readable = null;
            while (true)
            {
                readable ??= input.WaitToReadAsync(ct).AsTask();
                if (!_backlog.IsEmpty && !readable.IsCompleted)
                {
                    var wait = _backlog.NextAttempt - _time.GetUtcNow();
                    if (wait > TimeSpan.Zero) await Task.WhenAny(readable, Task.Delay(wait, _time, ct));
                    if (!readable.IsCompleted)
                    {
                        ct.ThrowIfCancellationRequested();
                        await FlushAsync(ct);
                        continue;
                    }
                }
                if (!await readable) break;
                readable = null;
                while (input.TryRead(out var tracked))
                {
                    using (tracked)
                    {
                        try
                        {
                            await RaiseAsync(tracked, ct);
                        }
                        catch (Exception ex) when (ex is not OperationCanceledException)
                        {
                            _logger.LogError(ex, "Rules failed on a frame from camera {Camera}", tracked.Frame.CameraId);
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        await LastFlushAsync();
    }

    /// <summary>Stopping: one more try, whatever the backoff says; what still cannot be written is lost with the process, loudly.</summary>
    private async Task LastFlushAsync()
    {
        if (_backlog.IsEmpty) return;
        _backlog.Succeeded();
        await FlushAsync(CancellationToken.None);
        if (!_backlog.IsEmpty)
            _logger.LogError("Stopping with {Cases} new case(s) and {Count} write(s) in all that the case store could not take: they are lost ({Problem})",
                _backlog.WaitingCases, _backlog.Count, _storeProblem);
    }

    /// <summary>One tracked frame: rules, dedup, and what that decides committed through the sink. The caller keeps (and disposes) the frame.</summary>
    public async Task RaiseAsync(TrackedFrame tracked, CancellationToken ct)
    {
        var frame = tracked.Frame;
        ApplyCameraUpdates();
        // What waits for the store goes first (when its retry is due), so cases are stored in the order raised.
        await FlushAsync(ct);
        // A frame of a camera removed at run time, still in flight when it stopped.
        if (!_cameras.ContainsKey(frame.CameraId)) return;
        var rules = await RulesForAsync(tracked, ct);
        var scene = SceneOf(tracked);
        foreach (var decision in rules.Evaluate(tracked))
        {
            await ApplyAsync(decision, frame, scene, ct);
            if (decision is CaseOpened) scene?.Release(decision.TrackId);
        }
        ApplyOutcomes();
        _site.Advance(frame.CaptureTime);
        await CloseGoneAsync(ct);
    }

    /// <summary>
    /// The scene memory of a camera asking for a static-object type, brought up to date with this frame: a view taken
    /// when due, the oldest view kept for each static object newly tracked, let go for tracks that ended. Null for
    /// other cameras.
    /// </summary>
    private SceneMemory? SceneOf(TrackedFrame tracked)
    {
        var camera = tracked.Camera;
        if (!camera.Detectors.Contains(ModelFreeTypes.Garbage) && !camera.Detectors.Contains(ModelFreeTypes.Billboard)) return null;
        if (!_scenes.TryGetValue(camera.Id, out var scene))
            _scenes[camera.Id] = scene = new SceneMemory(_ruleOptions.BeforeViewInterval);
        foreach (var id in tracked.RemovedTrackIds) scene.Release(id);
        var tracks = tracked.Tracks;
        for (var i = 0; i < tracks.Length; i++)
            if (tracks[i].State == TrackState.Confirmed && tracks[i].ClassName == ModelFreeTypes.StaticObjectClass) scene.Pin(tracks[i].Id);
        scene.Observe(tracked.Frame);
        return scene;
    }

    private GroundMapping MappingOf(Camera camera)
    {
        var mapping = new GroundMapping(camera);
        if (camera.Ground.Count > 0 && !mapping.IsMapped)
            _logger.LogWarning("Camera {Camera}: ground mapping not usable ({Problem}); its cases are placed at the camera", camera.Id, mapping.Problem);
        return mapping;
    }

    private void ApplyCameraUpdates()
    {
        while (_cameraUpdates.TryDequeue(out var u))
        {
            _rules.Remove(u.Id);
            // Track ids start again with the camera's new tracker: what was kept for the old ones goes.
            if (_scenes.Remove(u.Id, out var scene)) scene.Dispose();
            if (u.Camera is null || u.Group is null)
            {
                _cameras.Remove(u.Id);
                _groupOf.Remove(u.Id);
                _mappings.Remove(u.Id);
                continue;
            }
            _cameras[u.Id] = u.Camera;
            _groupOf[u.Id] = u.Group;
            _mappings[u.Id] = MappingOf(u.Camera);
        }
    }

    private async Task<CameraRules> RulesForAsync(TrackedFrame tracked, CancellationToken ct)
    {
        var frame = tracked.Frame;
        if (!_siteSeeded)
        {
            // Cases raised before a restart keep their places (open ones suppress, closed ones cool down).
            _siteSeeded = true;
            var o = _site.Options;
            var cooldown = o.RejectCooldown > o.Cooldown ? o.RejectCooldown : o.Cooldown;
            var reach = o.Window > TimeSpan.MaxValue - cooldown ? TimeSpan.MaxValue : o.Window + cooldown;
            var since = reach >= frame.CaptureTime - DateTimeOffset.MinValue ? DateTimeOffset.MinValue : frame.CaptureTime - reach;
            foreach (var c in await _sink.CasesSinceAsync(since, includeFinal: true, ct))
            {
                if (c.State.IsFinal() && c.ClosedAt is null) continue;
                var atCamera = _cameras.TryGetValue(c.CameraId, out var cam) && cam.Latitude == c.Latitude && cam.Longitude == c.Longitude;
                _site.Remember(c, new GeoPoint(c.Latitude, c.Longitude), atCamera ? PlaceKind.Camera : PlaceKind.Ground);
            }
        }
        // Track ids are the tracker's: the rules start again with it (the camera tracked under a new definition).
        if (_rules.TryGetValue(frame.CameraId, out var rules) && ReferenceEquals(rules.Camera, tracked.Camera)) return rules;
        rules = new CameraRules(tracked.Camera, _ruleOptions);
        // Remember cases raised before a restart, judged on this camera's own clock, so they are not raised twice.
        foreach (var c in await _sink.CasesSinceAsync(frame.CaptureTime - _ruleOptions.DedupWindow, includeFinal: false, ct))
            if (c.CameraId == frame.CameraId) rules.Remember(c);
        _rules[frame.CameraId] = rules;
        return rules;
    }

    private async Task ApplyAsync(CaseDecision decision, Frame frame, SceneMemory? scene, CancellationToken ct)
    {
        var hit = decision.Hit;
        var sighting = Sighting.Of(hit, _mappings[hit.CameraId], frame.Width, frame.Height);
        if (decision is CaseSighted && _ruleOptions.RuleFor(hit.CaseType).ReportOnce)
        {
            // Reported once: still there keeps its case open and its last seen current, and raises nothing.
            if (_site.KeepAlive(sighting) is { } kept)
            {
                _backlog.AddSighting(kept, hit.SeenAt, 0, null, null);
                await FlushAsync(ct);
            }
            return;
        }
        // The camera's rules say "seen"; the site says which case that is, across cameras.
        switch (_site.Decide(sighting))
        {
            case NewSiteCase created:
                if (_backlog.WaitingCases >= _maxWaitingCases)
                {
                    NotKept(created.CaseId, hit);
                    break;
                }
                _backlog.AddOpen(NewCase(created.CaseId, hit, frame, sighting, scene?.PinnedFor(decision.TrackId)));
                await FlushAsync(ct);
                break;
            case SameSiteCase same:
                // A sighting of a case still waiting for the store waits behind it, and is written right after it.
                _backlog.AddSighting(same.CaseId, hit.SeenAt, hit.Confidence,
                    same.BetterEvidence ? CaseEvidence.Annotated(hit, frame, _cameras[hit.CameraId], TypeOf(hit.CaseType)) : null,
                    same.BetterEvidence ? CaseEvidence.Crop(hit, frame) : null);
                await FlushAsync(ct);
                break;
            case SiteCooldown cooling:
                _logger.LogDebug("{Type} on camera {Camera} not raised: case {Case} there was closed, cooling down until {Until}",
                    hit.CaseType, hit.CameraId, cooling.CaseId, cooling.Until);
                break;
        }
    }

    /// <summary>Closed or rejected by dispatch: the place cools down from now on the frame clock (a rejection for longer).</summary>
    private void ApplyOutcomes()
    {
        while (_outcomes.TryDequeue(out var c))
            if (_site.Close(c.Id, _site.Now, rejected: c.State == CaseState.Rejected))
                _logger.LogInformation("Case {Case} {State} by dispatch: its place cools down", c.Id, c.State);
        while (_shared.TryDequeue(out var c))
        {
            if (c.State.IsFinal())
            {
                if (_site.Close(c.Id, _site.Now, rejected: c.State == CaseState.Rejected))
                    _logger.LogInformation("Case {Case} {State} (on another node): its place cools down here too", c.Id, c.State);
            }
            else if (!_site.Knows(c.Id)) RememberShared(c);
            else _site.Touch(c.Id, c.LastSeen);
        }
    }

    /// <summary>Remembers a case another node raised, at its camera's place or on the ground as the case says.</summary>
    private void RememberShared(Case c)
    {
        var atCamera = _cameras.TryGetValue(c.CameraId, out var cam) && cam.Latitude == c.Latitude && cam.Longitude == c.Longitude;
        _site.Remember(c, new GeoPoint(c.Latitude, c.Longitude), atCamera ? PlaceKind.Camera : PlaceKind.Ground, foreign: true);
    }

    /// <summary>Records through the sink the cases whose object no camera has seen for the dedup window (after their opening, when that waits too).</summary>
    private async Task CloseGoneAsync(CancellationToken ct)
    {
        foreach (var gone in _site.TakeGone()) _backlog.AddClose(gone);
        await FlushAsync(ct);
    }

    private CaseType TypeOf(string id) => _caseTypes.TryGetValue(id, out var t) ? t : new CaseType(id, "", id, id, "");

    private Case NewCase(string id, Hit hit, Frame frame, Sighting sighting, SceneView? before)
    {
        var camera = _cameras[hit.CameraId];
        var group = _groupOf[hit.CameraId];
        var type = TypeOf(hit.CaseType);
        return new Case
        {
            Id = id,
            CaseType = hit.CaseType,
            CaseTypeCode = type.Code,
            CaseTypeNameZh = type.NameZh,
            CaseTypeNameEn = type.NameEn,
            CameraId = camera.Id,
            GroupId = group.Id,
            District = group.District ?? "",
            Street = group.Street ?? "",
            Grid = group.Grid ?? "",
            ResponsibleUnit = group.ResponsibleUnit ?? "",
            Zone = hit.Zone,
            // Where the object stands when the camera's ground mapping says so, else the camera's own position.
            Latitude = sighting.PlaceKind == PlaceKind.Unknown ? camera.Latitude : sighting.Place.Latitude,
            Longitude = sighting.PlaceKind == PlaceKind.Unknown ? camera.Longitude : sighting.Place.Longitude,
            FirstSeen = hit.FirstSeen,
            LastSeen = hit.SeenAt,
            RaisedAt = hit.SeenAt,
            Confidence = hit.Confidence,
            Box = hit.Box,
            ImageWidth = frame.Width,
            ImageHeight = frame.Height,
            ClassName = hit.ClassName,
            Evidence = CaseEvidence.Annotated(hit, frame, camera, type),
            EvidenceCrop = CaseEvidence.Crop(hit, frame),
            EvidenceBeforeAfter = before is null ? [] : CaseEvidence.BeforeAfter(hit, frame, camera, type, before),
        };
    }
}
