using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CitySight.Admin.V1;
using CitySight.Configuration;
using CitySight.Domain;
using CitySight.Ingest;
using CitySight.Ingest.Patrol;
using CitySight.Rules;
using CitySight.Service.Cluster;
using CitySight.Tracking;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;
using IngestCameraState = CitySight.Ingest.CameraState;
using ProtoCameraState = CitySight.Admin.V1.CameraState;
using ProtoIngestMode = CitySight.Admin.V1.IngestMode;

namespace CitySight.Service.Admin;

/// <summary>A service whose streams or patrol have stopped: nothing can be switched or reloaded any more.</summary>
public sealed class CameraAdminException(string message) : Exception(message);

/// <summary>
/// What the admin API does: reports every camera's state, switches cameras on and off in memory (streamed or
/// patrolled), and reloads the configuration files, applying the camera changes to the running streams, the patrol
/// and the rules stage.
/// One change at a time.
/// </summary>
public sealed class CameraAdministrator(
    CameraDirectory directory, IngestWorker ingest, PatrolWorker patrol, TrackingStage tracking, CaseRaiser cases, IngestOptions ingestOptions, TimeProvider time,
    ILogger<CameraAdministrator> logger, ClusterPlacement? placement = null)
{
    private const string AdminDisabledReason = "disabled with the admin API (until the next reload or restart)";
    private readonly SemaphoreSlim _serial = new(1, 1);

    /// <summary>Every group (or the one named) with its cameras' states. Null when <paramref name="groupId"/> names no group.</summary>
    public ListCamerasReply? List(string? groupId)
    {
        // Every camera of the configuration, also those another node of a cluster runs (state ELSEWHERE, with its node).
        var config = directory.Shared;
        var groups = config.Groups.Where(g => string.IsNullOrEmpty(groupId) || g.Id == groupId).ToList();
        if (!string.IsNullOrEmpty(groupId) && groups.Count == 0) return null;
        var patrolled = PatrolStates();
        var now = time.GetUtcNow();
        var reply = new ListCamerasReply();
        foreach (var g in groups)
        {
            var info = new CameraGroupInfo
            {
                Id = g.Id,
                Name = g.Name,
                District = g.District ?? "",
                Street = g.Street ?? "",
                Grid = g.Grid ?? "",
                ResponsibleUnit = g.ResponsibleUnit ?? "",
            };
            info.Cameras.AddRange(g.Cameras.Select(c => Info(c, patrolled, now)));
            reply.Groups.Add(info);
        }
        return reply;
    }

    /// <summary>One camera's state; null when no camera has that id.</summary>
    public CameraInfo? Get(string cameraId) =>
        directory.FindShared(cameraId) is { } camera ? Info(camera, PatrolStates(), time.GetUtcNow()) : null;

    /// <summary>Disables or enables a camera, streamed or patrolled, in memory. Null when no camera has that id.</summary>
    /// <exception cref="CameraAdminException">The streams (or the patrol) have stopped.</exception>
    public async Task<CameraInfo?> SetEnabledAsync(string cameraId, bool enabled, CancellationToken ct)
    {
        await _serial.WaitAsync(ct);
        try
        {
            if (directory.Find(cameraId) is not { } camera)
            {
                if (directory.FindShared(cameraId) is null) return null;
                throw new CameraAdminException($"camera {cameraId} runs on node {placement?.NodeOf(cameraId) ?? "(none yet)"}, not on this one: switch it there");
            }
            try
            {
                // A camera with a stream slot (continuous, within the budget, or disabled) is switched there; any other
                // is the patrol's: a patrol group's camera, or a continuous one over ingest.max_streams.
                if (ingest.Find(cameraId) is not null)
                    await ingest.SetEnabledAsync(cameraId, enabled);
                else
                    await patrol.SetEnabledAsync(camera, enabled);
            }
            catch (InvalidOperationException e)
            {
                throw new CameraAdminException(e.Message);
            }
            return Info(camera, PatrolStates(), time.GetUtcNow());
        }
        finally
        {
            _serial.Release();
        }
    }

    /// <summary>Reads the configuration files again; when they are valid, applies what can change without a restart.</summary>
    /// <param name="announce">False for a reload another node of a cluster asked for (it announced it already).</param>
    /// <exception cref="CameraAdminException">The streams have stopped.</exception>
    public async Task<ReloadConfigReply> ReloadAsync(CancellationToken ct, bool announce = true)
    {
        await _serial.WaitAsync(ct);
        try
        {
            var old = directory.Shared;
            var reply = new ReloadConfigReply { SourceFile = old.SourceFile };
            var loaded = ConfigLoader.Load(old.SourceFile);
            if (loaded.Config is not { } neu)
            {
                reply.Ok = false;
                reply.Errors.AddRange(loaded.Errors.Select(e => e.ToString()));
                logger.LogWarning("Configuration reload refused, nothing changed: {Count} error(s) in {File}:{Errors}", loaded.Errors.Count,
                    old.SourceFile, string.Concat(loaded.Errors.Select(e => "\n  " + e)));
                return reply;
            }
            reply.Ok = true;
            reply.NeedsRestart.AddRange(RestartOnly(old, neu));
            var shared = old with { Groups = neu.Groups };
            await ApplyCamerasAsync(reply, shared, directory.Owned, reload: true);
            CamerasReloaded?.Invoke(shared, announce);
            logger.LogInformation(
                "Configuration reloaded from {File}: {Added} camera(s) added, {Removed} removed, {Changed} changed; {Restart} setting(s) need a restart{List}",
                old.SourceFile, reply.Added.Count, reply.Removed.Count, reply.Changed.Count, reply.NeedsRestart.Count,
                string.Concat(reply.NeedsRestart.Select(r => "\n  " + r)));
            return reply;
        }
        finally
        {
            _serial.Release();
        }
    }

    /// <summary>
    /// After a reload that applied: the configuration as loaded (every node's cameras), and whether the other nodes of a
    /// cluster should be told to reload too (not when they asked for this one).
    /// </summary>
    public event Action<CitySightConfig, bool>? CamerasReloaded;

    /// <summary>
    /// A cluster's node now owns <paramref name="owned"/>: starts the cameras it gained and stops those it lost, as a
    /// reload does (the configuration itself is unchanged). The reply lists them as added and removed.
    /// </summary>
    /// <exception cref="CameraAdminException">The streams have stopped.</exception>
    public async Task<ReloadConfigReply> ApplyOwnershipAsync(IReadOnlySet<string> owned, CancellationToken ct)
    {
        await _serial.WaitAsync(ct);
        try
        {
            var reply = new ReloadConfigReply { SourceFile = directory.Shared.SourceFile, Ok = true };
            await ApplyCamerasAsync(reply, directory.Shared, owned, reload: false);
            if (reply.Added.Count + reply.Removed.Count > 0)
                logger.LogInformation("Cameras of this node: {Added} taken ({AddedList}), {Removed} handed over ({RemovedList}); {Owned} in all",
                    reply.Added.Count, string.Join(", ", reply.Added.Take(20)), reply.Removed.Count, string.Join(", ", reply.Removed.Take(20)), owned.Count);
            return reply;
        }
        finally
        {
            _serial.Release();
        }
    }

    /// <summary>
    /// Moves the running cameras from what runs now to what <paramref name="shared"/> and <paramref name="owned"/> say should:
    /// streams and patrol visits stopped, started or replaced, the detector routing, tracking and case raising told.
    /// A reload also drops the admin API's overrides of the cameras it touches.
    /// </summary>
    private async Task ApplyCamerasAsync(ReloadConfigReply reply, CitySightConfig shared, IReadOnlySet<string>? owned, bool reload)
    {
        var old = directory.Config;
        var neu = CameraDirectory.Here(shared, owned);
        // Where each camera runs (a stream of its own, the patrol, or nowhere) is judged on the stream budget in
        // force (the start-up ingest options): ingest changes need a restart.
        var oldPlace = Placements(old, ingestOptions);
        var newPlace = Placements(neu, ingestOptions);
        var oldCams = old.Groups.SelectMany(g => g.Cameras.Select(c => (Camera: c, Group: g))).ToDictionary(p => p.Camera.Id);
        var newCams = neu.Groups.SelectMany(g => g.Cameras.Select(c => (Camera: c, Group: g))).ToDictionary(p => p.Camera.Id);

        var (streamAdded, streamRemoved, streamReplaced) = (new List<Camera>(), new List<string>(), new List<Camera>());
        var (patrolAdded, patrolRemoved) = (new List<Camera>(), new List<string>());
        var rulesReplaced = new List<Camera>();
        var rulesRemoved = new List<string>();

        foreach (var id in oldCams.Keys.Union(newCams.Keys))
        {
            var had = oldCams.TryGetValue(id, out var o);
            var has = newCams.TryGetValue(id, out var n);
            var from = had ? oldPlace[id] : Place.Nowhere;
            var to = has ? newPlace[id] : Place.Nowhere;
            var fields = had && has ? Differences(o.Camera, o.Group, n.Camera, n.Group) : [];
            if (reload && fields.Count == 0 && (ingest.Find(id) is { Override: not null } || patrol.Override(id) is not null))
                fields.Add("enabled (the admin API's override is dropped)");
            if (had && has && from != to && !fields.Contains("enabled") && !fields.Contains("mode"))
                fields.Add(to == Place.Patrol ? "runs in the patrol now (over ingest.max_streams)" : "has a stream of its own now (within ingest.max_streams)");
            if (had && has && fields.Count == 0) continue;

            if (from == Place.Stream && to == Place.Stream) streamReplaced.Add(n.Camera);
            else
            {
                if (from == Place.Stream) streamRemoved.Add(id);
                if (to == Place.Stream) streamAdded.Add(n.Camera);
            }
            // Whatever the patrol holds of it (in the rotation, or an admin override) goes; it joins again as defined now.
            if (from == Place.Patrol || patrol.Override(id) is not null) patrolRemoved.Add(id);
            if (to == Place.Patrol) patrolAdded.Add(n.Camera);
            if (has) rulesReplaced.Add(n.Camera); else rulesRemoved.Add(id);

            if (!had) reply.Added.Add(id);
            else if (!has) reply.Removed.Add(id);
            else
            {
                var change = new CameraChange { CameraId = id };
                change.Fields.AddRange(fields);
                reply.Changed.Add(change);
            }
        }

        try
        {
            if (patrolAdded.Count > 0) patrol.ThrowIfCannotAdd();
            // Between the old streams and visits stopping and the new ones starting: frames of the new settings
            // meet the new definitions in the detector routing, the tracking and the case-raising stages.
            async Task Between()
            {
                await patrol.RemoveAsync(patrolRemoved);
                directory.Set(shared, owned);
                foreach (var id in rulesRemoved) { tracking.RemoveCamera(id); cases.RemoveCamera(id); }
                foreach (var c in rulesReplaced) { tracking.ReplaceCamera(c); cases.ReplaceCamera(c, directory.GroupOf(c.Id)!); }
            }
            if (streamAdded.Count + streamRemoved.Count + streamReplaced.Count > 0)
                await ingest.ApplyAsync(streamAdded, streamRemoved, streamReplaced, Between);
            else
                await Between();
            patrol.Add(patrolAdded);
        }
        catch (InvalidOperationException e)
        {
            throw new CameraAdminException(e.Message);
        }
    }

    private enum Place { Nowhere, Stream, Patrol }

    /// <summary>Where each camera of <paramref name="config"/> runs: a stream slot (disabled ones too), the patrol, or nowhere (a disabled patrolled camera).</summary>
    private static Dictionary<string, Place> Placements(CitySightConfig config, IngestOptions ingest)
    {
        var places = config.Cameras.ToDictionary(c => c.Id, _ => Place.Nowhere);
        foreach (var c in IngestWorker.Split(config.Cameras, ingest).Streamed) places[c.Id] = Place.Stream;
        foreach (var c in IngestWorker.Patrolled(config.Cameras, ingest)) places[c.Id] = Place.Patrol;
        return places;
    }

    private Dictionary<string, PatrolCameraStatus> PatrolStates()
    {
        var states = new Dictionary<string, PatrolCameraStatus>();
        foreach (var p in patrol.Status()) states.TryAdd(p.CameraId, p);
        return states;
    }

    private CameraInfo Info(Camera camera, Dictionary<string, PatrolCameraStatus> patrolled, DateTimeOffset now)
    {
        var info = new CameraInfo
        {
            Id = camera.Id,
            Name = camera.Name,
            GroupId = camera.GroupId,
            Mode = camera.Mode == Domain.IngestMode.Patrol ? ProtoIngestMode.Patrol : ProtoIngestMode.Continuous,
            Node = placement?.NodeId ?? "",
        };
        if (directory.Owned is { } owned && !owned.Contains(camera.Id))
        {
            info.Enabled = camera.Enabled;
            info.State = camera.Enabled ? ProtoCameraState.Elsewhere : ProtoCameraState.Disabled;
            info.Node = camera.Enabled ? placement?.NodeOf(camera.Id) ?? "" : "";
            info.Reason = !camera.Enabled ? "disabled in the configuration"
                : info.Node.Length > 0 ? $"runs on node {info.Node}" : "waiting for a live node to take it";
        }
        else if (ingest.Find(camera.Id) is { } stream)
        {
            var st = stream.Source.Status;
            info.Enabled = stream.Source.Camera.Enabled;
            info.Overridden = stream.Override is not null;
            info.State = st.State switch
            {
                IngestCameraState.Connecting => ProtoCameraState.Connecting,
                IngestCameraState.Streaming => ProtoCameraState.Streaming,
                IngestCameraState.Stalled => ProtoCameraState.Stalled,
                IngestCameraState.Offline => ProtoCameraState.Offline,
                IngestCameraState.Disabled => ProtoCameraState.Disabled,
                IngestCameraState.Stopped => ProtoCameraState.Stopped,
                _ => ProtoCameraState.Unspecified,
            };
            info.Reason = stream.Override == false ? AdminDisabledReason : st.Reason ?? "";
            info.Since = Timestamp.FromDateTimeOffset(st.Since);
            if (st.LastFrameAt is { } last) info.LastFrameAge = Duration.FromTimeSpan(Max(now - last, TimeSpan.Zero));
            if (st.NextAttemptAt is { } next) info.NextAttempt = Timestamp.FromDateTimeOffset(next);
            info.FramesDecoded = st.FramesDecoded;
            info.Reconnects = st.Reconnects;
        }
        else if (patrolled.TryGetValue(camera.Id, out var p))
        {
            info.Enabled = true;
            info.Overridden = patrol.Override(camera.Id) is not null;
            info.State = p.ConsecutiveFailures > 0 ? ProtoCameraState.Offline
                : p.Visiting ? ProtoCameraState.Connecting
                : ProtoCameraState.Patrolled;
            info.Reason = p.Reason ?? (camera.Mode == Domain.IngestMode.Continuous ? "over ingest.max_streams: patrolled" : "");
            if (p.LastVisit is { } visit) info.LastFrameAge = Duration.FromTimeSpan(Max(now - visit, TimeSpan.Zero));
            info.NextAttempt = Timestamp.FromDateTimeOffset(p.DueAt);
        }
        else if (patrol.Override(camera.Id) == false)
        {
            info.Enabled = false;
            info.Overridden = true;
            info.State = ProtoCameraState.Disabled;
            info.Reason = AdminDisabledReason;
        }
        else
        {
            info.Enabled = camera.Enabled;
            info.State = camera.Enabled ? ProtoCameraState.Stopped : ProtoCameraState.Disabled;
            info.Reason = camera.Enabled ? "not running" : "disabled in the configuration";
        }
        return info;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    // ---- comparing configurations ----

    private static readonly JsonSerializerOptions Canonical = new()
    {
        Converters = { new TimeZoneConverter(), new JsonStringEnumConverter() },
        ReferenceHandler = ReferenceHandler.IgnoreCycles,
    };

    private static string Json(object? value)
    {
        try { return JsonSerializer.Serialize(value, value?.GetType() ?? typeof(object), Canonical); }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or JsonException)
        {
            return value?.ToString() ?? "";
        }
    }

    private static bool Same(object? a, object? b) => Json(a) == Json(b);

    /// <summary>The camera's settings that differ, by their configuration keys.</summary>
    internal static List<string> Differences(Camera a, CameraGroup ga, Camera b, CameraGroup gb)
    {
        var fields = new List<string>();
        void Check(string key, object? x, object? y) { if (!Same(x, y)) fields.Add(key); }
        Check("name", a.Name, b.Name);
        Check("url", a.Url, b.Url);
        Check("latitude", a.Latitude, b.Latitude);
        Check("longitude", a.Longitude, b.Longitude);
        Check("timezone", a.TimeZone.Id, b.TimeZone.Id);
        Check("ground", a.Ground, b.Ground);
        Check("sample_interval", a.SampleInterval, b.SampleInterval);
        Check("detectors", a.Detectors, b.Detectors);
        Check("zones", a.Zones, b.Zones);
        Check("real_time", a.RealTime, b.RealTime);
        Check("loop", a.Loop, b.Loop);
        Check("starts_at", a.StartsAt, b.StartsAt);
        Check("enabled", a.Enabled, b.Enabled);
        Check("mode", a.Mode, b.Mode);
        Check("decoder", a.Decoder, b.Decoder);
        // Whatever else a camera gains later.
        var known = new HashSet<string> { "Id", "Name", "GroupId", "Url", "Latitude", "Longitude", "TimeZone", "Ground", "SampleInterval",
            "Detectors", "Zones", "RealTime", "Loop", "StartsAt", "Enabled", "Mode", "Decoder" };
        foreach (var prop in typeof(Camera).GetProperties(BindingFlags.Public | BindingFlags.Instance))
            if (!known.Contains(prop.Name) && prop.GetIndexParameters().Length == 0)
                Check(SnakeCase(prop.Name), prop.GetValue(a), prop.GetValue(b));
        if (a.GroupId != b.GroupId || !Same(ga with { Cameras = [] }, gb with { Cameras = [] })) fields.Add("group");
        return fields;
    }

    /// <summary>Settings outside the cameras that differ: they need a restart ("service.grpc_port", ...).</summary>
    internal static List<string> RestartOnly(CitySightConfig old, CitySightConfig neu)
    {
        var skip = new HashSet<string> { nameof(CitySightConfig.SourceFile), nameof(CitySightConfig.Groups), nameof(CitySightConfig.Cameras),
            nameof(CitySightConfig.CamerasDir) };
        var found = new List<string>();
        foreach (var prop in typeof(CitySightConfig).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (skip.Contains(prop.Name) || prop.GetIndexParameters().Length > 0) continue;
            var (a, b) = (prop.GetValue(old), prop.GetValue(neu));
            if (Same(a, b)) continue;
            var section = SnakeCase(prop.Name);
            var type = prop.PropertyType;
            var inner = a is not null && b is not null && type.IsClass && type != typeof(string) && !typeof(System.Collections.IEnumerable).IsAssignableFrom(type)
                ? type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                    .Where(p => p.GetIndexParameters().Length == 0 && !Same(p.GetValue(a), p.GetValue(b)))
                    .Select(p => $"{section}.{SnakeCase(p.Name)}")
                    .ToList()
                : [];
            // Named by the keys declared for the section where they tell the change apart (nested records included).
            var keys = ConfigKeys.All
                .Where(k => k.File == ConfigFile.Main && k.IsLeaf && k.Loaded is { } && k.Path.StartsWith(section + ".", StringComparison.Ordinal)
                            && !k.Path.Contains("[]", StringComparison.Ordinal) && !k.Path.Contains(".TYPE.", StringComparison.Ordinal)
                            && !Same(k.Loaded!(old), k.Loaded!(neu)))
                .Select(k => k.Path)
                .ToList();
            found.AddRange((keys.Count > 0 ? keys : inner.Count > 0 ? inner : [section]).Select(s => $"{s}: changed, needs a restart (left as it is)"));
        }
        return found;
    }

    private static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1])))) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }

    private sealed class TimeZoneConverter : JsonConverter<TimeZoneInfo>
    {
        public override TimeZoneInfo Read(ref Utf8JsonReader reader, System.Type typeToConvert, JsonSerializerOptions options) =>
            TimeZoneInfo.FindSystemTimeZoneById(reader.GetString()!);

        public override void Write(Utf8JsonWriter writer, TimeZoneInfo value, JsonSerializerOptions options) => writer.WriteStringValue(value.Id);
    }
}
