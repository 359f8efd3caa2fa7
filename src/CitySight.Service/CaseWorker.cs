using CitySight.Cases;
using CitySight.Configuration;
using CitySight.Domain;
using CitySight.Imaging;
using CitySight.Rules;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CitySight.Service;

/// <summary>
/// Applies each camera's rules to detected frames, then the district-wide dedup (same type, same place on the ground,
/// whichever camera saw it), and commits what that decides to the case store: a new case, a sighting of an open one
/// (with the better picture when it is better), or nothing at a place cooling down after a close.
/// </summary>
public sealed class CaseWorker : BackgroundService
{
    private readonly PipelineChannels _channels;
    private readonly CaseStore _store;
    private readonly ILogger<CaseWorker> _logger;
    private readonly RuleOptions _ruleOptions;
    private readonly Dictionary<string, Camera> _cameras;
    private readonly Dictionary<string, CameraGroup> _groupOf;
    private readonly Dictionary<string, CaseType> _caseTypes;
    private readonly Dictionary<string, CameraRules> _rules = [];
    private readonly Dictionary<string, GroundMapping> _mappings = [];
    private readonly SiteDedup _site;
    private readonly System.Collections.Concurrent.ConcurrentQueue<CaseFeedEvent> _outcomes = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<CameraUpdate> _cameraUpdates = new();
    private bool _siteSeeded;

    public CaseWorker(CitySightConfig config, PipelineChannels channels, CaseStore store, ILogger<CaseWorker> logger)
    {
        _channels = channels;
        _store = store;
        _logger = logger;
        _ruleOptions = new RuleOptions
        {
            MinConfidence = config.Rules.MinConfidence,
            ConfirmSamples = config.Rules.ConfirmSamples,
            SameObjectIoU = config.Rules.SameObjectIoU,
            DedupWindow = config.Rules.DedupWindow,
            ForType = config.Rules.ForType,
        };
        _cameras = config.Cameras.ToDictionary(c => c.Id);
        _groupOf = config.Groups.SelectMany(g => g.Cameras.Select(c => (c.Id, g))).ToDictionary(p => p.Id, p => p.g);
        _caseTypes = config.CaseTypes.ToDictionary(t => t.Id);
        _site = new SiteDedup(new SiteDedupOptions
        {
            RadiusMetres = config.Dedup.SamePlaceRadiusMetres,
            Window = config.Dedup.Window,
            Cooldown = config.Dedup.Cooldown,
            RejectCooldown = config.Dedup.RejectCooldown,
        });
        // Dispatch's closures and rejections (through delivery) cool the place down; applied on this loop, in order.
        store.StateChanged += e => { if (e.Case.State.IsFinal()) _outcomes.Enqueue(e); };
        foreach (var camera in _cameras.Values)
        {
            var mapping = new GroundMapping(camera);
            if (camera.Ground.Count > 0 && !mapping.IsMapped)
                _logger.LogWarning("Camera {Camera}: ground mapping not usable ({Problem}); its cases are placed at the camera", camera.Id, mapping.Problem);
            _mappings[camera.Id] = mapping;
        }
    }

    /// <summary>The district-wide dedup memory (for inspection and for dispatch feedback).</summary>
    public SiteDedup Site => _site;

    /// <summary>
    /// A camera added or changed at run time (configuration reload), with its group: it gets fresh rules and ground
    /// mapping from its next frame on. Applied on this stage's loop, between frames.
    /// </summary>
    public void ReplaceCamera(Camera camera, CameraGroup group) => _cameraUpdates.Enqueue(new CameraUpdate(camera.Id, camera, group));

    /// <summary>A camera removed at run time: its rules are dropped and frames of it still in flight are skipped.</summary>
    public void RemoveCamera(string cameraId) => _cameraUpdates.Enqueue(new CameraUpdate(cameraId, null, null));

    private sealed record CameraUpdate(string Id, Camera? Camera, CameraGroup? Group);

    private void ApplyCameraUpdates()
    {
        while (_cameraUpdates.TryDequeue(out var u))
        {
            _rules.Remove(u.Id);
            if (u.Camera is null || u.Group is null)
            {
                _cameras.Remove(u.Id);
                _groupOf.Remove(u.Id);
                _mappings.Remove(u.Id);
                continue;
            }
            _cameras[u.Id] = u.Camera;
            _groupOf[u.Id] = u.Group;
            var mapping = new GroundMapping(u.Camera);
            if (u.Camera.Ground.Count > 0 && !mapping.IsMapped)
                _logger.LogWarning("Camera {Camera}: ground mapping not usable ({Problem}); its cases are placed at the camera", u.Id, mapping.Problem);
            _mappings[u.Id] = mapping;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            await foreach (var detected in _channels.Detected.Reader.ReadAllAsync(stoppingToken))
            {
                using var frame = detected.Frame;
                try
                {
                    ApplyCameraUpdates();
                    // A frame of a camera removed at run time, still in flight when it stopped.
                    if (!_cameras.ContainsKey(frame.CameraId)) continue;
                    var rules = await RulesForAsync(frame, stoppingToken);
                    foreach (var decision in rules.Evaluate(detected))
                        await ApplyAsync(decision, frame, stoppingToken);
                    ApplyOutcomes();
                    _site.Advance(frame.CaptureTime);
                    await CloseGoneAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _logger.LogError(ex, "Rules failed on a frame from camera {Camera}", frame.CameraId);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    private async Task<CameraRules> RulesForAsync(Frame frame, CancellationToken ct)
    {
        if (!_siteSeeded)
        {
            // Cases raised before a restart keep their places (open ones suppress, closed ones cool down).
            _siteSeeded = true;
            var o = _site.Options;
            var cooldown = o.RejectCooldown > o.Cooldown ? o.RejectCooldown : o.Cooldown;
            var reach = o.Window > TimeSpan.MaxValue - cooldown ? TimeSpan.MaxValue : o.Window + cooldown;
            var since = reach >= frame.CaptureTime - DateTimeOffset.MinValue ? DateTimeOffset.MinValue : frame.CaptureTime - reach;
            foreach (var c in await _store.CasesSinceAsync(since, includeFinal: true, ct))
            {
                if (c.State.IsFinal() && c.ClosedAt is null) continue;
                var atCamera = _cameras.TryGetValue(c.CameraId, out var cam) && cam.Latitude == c.Latitude && cam.Longitude == c.Longitude;
                _site.Remember(c, new GeoPoint(c.Latitude, c.Longitude), atCamera ? PlaceKind.Camera : PlaceKind.Ground);
            }
        }
        if (_rules.TryGetValue(frame.CameraId, out var rules)) return rules;
        rules = new CameraRules(_cameras[frame.CameraId], _ruleOptions);
        // Remember cases raised before a restart, judged on this camera's own clock, so they are not raised twice.
        foreach (var c in await _store.OpenSinceAsync(frame.CaptureTime - _ruleOptions.DedupWindow, ct))
            if (c.CameraId == frame.CameraId) rules.Remember(c);
        _rules[frame.CameraId] = rules;
        return rules;
    }

    private async Task ApplyAsync(CaseDecision decision, Frame frame, CancellationToken ct)
    {
        var hit = decision.Hit;
        var sighting = Sighting.Of(hit, _mappings[hit.CameraId], frame.Width, frame.Height);
        if (decision is CaseSighted && _ruleOptions.RuleFor(hit.CaseType).ReportOnce)
        {
            // Reported once: still there keeps its case open and its last seen current, and raises nothing.
            if (_site.KeepAlive(sighting) is { } kept)
                await _store.UpdateSightingAsync(kept, hit.SeenAt, 0, null, ct);
            return;
        }
        // The camera's rules say "seen"; the site says which case that is, across cameras.
        switch (_site.Decide(sighting))
        {
            case NewSiteCase created:
                var stored = await _store.OpenAsync(NewCase(created.CaseId, hit, frame, sighting), ct);
                _logger.LogInformation("Case {Case} opened: {Type} on camera {Camera} (confidence {Confidence:F2})",
                    stored.Id, hit.CaseType, hit.CameraId, hit.Confidence);
                break;
            case SameSiteCase same:
                await _store.UpdateSightingAsync(same.CaseId, hit.SeenAt, hit.Confidence,
                    same.BetterEvidence ? Evidence(hit, frame) : null, same.BetterEvidence ? Crop(hit, frame) : null, ct);
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
        while (_outcomes.TryDequeue(out var e))
            if (_site.Close(e.Case.Id, _site.Now, rejected: e.Case.State == CaseState.Rejected))
                _logger.LogInformation("Case {Case} {State} by dispatch: its place cools down", e.Case.Id, e.Case.State);
    }

    /// <summary>Records in the store the cases whose object no camera has seen for the dedup window.</summary>
    private async Task CloseGoneAsync(CancellationToken ct)
    {
        foreach (var gone in _site.TakeGone())
        {
            try
            {
                await _store.TransitionAsync(gone.CaseId, CaseState.Closed, gone.At,
                    $"gone: no camera has seen it since {gone.LastSeen:yyyy-MM-dd HH:mm:ss zzz}; closed by CitySight", ct);
                _logger.LogInformation("Case {Case} closed: not seen since {LastSeen:O}", gone.CaseId, gone.LastSeen);
            }
            catch (InvalidCaseTransitionException)
            {
                // Dispatch closed or rejected it first: its word stands.
            }
            catch (KeyNotFoundException)
            {
                _logger.LogWarning("Case {Case} is gone but was never stored; nothing to close", gone.CaseId);
            }
        }
    }

    private Case NewCase(string id, Hit hit, Frame frame, Sighting sighting)
    {
        var camera = _cameras[hit.CameraId];
        var group = _groupOf[hit.CameraId];
        var type = _caseTypes.TryGetValue(hit.CaseType, out var t) ? t : new CaseType(hit.CaseType, "", hit.CaseType, hit.CaseType, "");
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
            Evidence = Evidence(hit, frame),
            EvidenceCrop = Crop(hit, frame),
        };
    }

    private static byte[] Crop(Hit hit, Frame frame) => EvidenceImage.EncodeCropJpeg(frame.Bgr, frame.Width, frame.Height, hit.Box);

    private static byte[] Evidence(Hit hit, Frame frame) =>
        EvidenceImage.EncodeAnnotatedJpeg(frame.Bgr, frame.Width, frame.Height,
            [(hit.Box, $"{hit.CaseType} {hit.ClassName} {hit.Confidence:F2}")]);
}
