using System.Globalization;
using System.Text.RegularExpressions;
using CitySight.Admin.V1;
using CitySight.Configuration;
using CitySight.Service;
using CitySight.Tests;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace CitySight.EndToEnd.Tests;

/// <summary>
/// The admin API through the real host (configuration files on disk, real Kestrel, real ffmpeg playing looping clips
/// in real time, real model) and a real gRPC client. Waits poll the live system; none stands in for a sleep.
/// </summary>
public sealed partial class AdminApiTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly string Clip = TestAssets.Media("parking-lot-cctv-640x480.mp4");

    // Camera ids are unique to this test run: the metrics they are counted in are process-wide.
    private readonly string _run = Guid.NewGuid().ToString("N")[..6];
    private string _dir = null!;
    private string _mainFile = null!;
    private int _grpcPort;
    private int _httpPort;
    private WebApplication? _app;
    private GrpcChannel? _channel;

    private string Id(string name) => $"{name}-{_run}";
    private CameraAdmin.CameraAdminClient Admin => new(_channel);

    public Task InitializeAsync()
    {
        _dir = TestAssets.TempDir("admin-api");
        Directory.CreateDirectory(Path.Combine(_dir, "cameras"));
        _grpcPort = TestPorts.Free();
        _httpPort = TestPorts.Free();
        _mainFile = Path.Combine(_dir, "citysight.yaml");
        WriteMain(retentionDays: 90);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private void WriteMain(int retentionDays, string delivery = "", string? manifest = null, string run = "") => File.WriteAllText(_mainFile, $"""
        {delivery}
        service:
          grpc_port: {_grpcPort}
          http_port: {_httpPort}
          data_dir: {Path.Combine(_dir, "data")}
          evidence_retention_days: {retentionDays}
        models:
          manifest: {manifest ?? Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml")}
          search_paths: [{Path.Combine(TestAssets.Root, "models")}]
        {run}
        cameras: cameras
        """);

    /// <summary>A group file of looping, real-time clip cameras; <paramref name="zoneTop"/> moves their one zone's top edge.</summary>
    private void WriteGroup(string group, double zoneTop, params string[] cameras) => WriteGroup(group, "continuous", zoneTop, cameras);

    /// <summary>A patrol (轮巡) group: each camera visited every 500 ms (connect, one frame, disconnect).</summary>
    private void WritePatrolGroup(string group, params string[] cameras) => WriteGroup(group, "patrol", 0.3, cameras);

    private void WriteGroup(string group, string mode, double zoneTop, string[] cameras)
    {
        var text = $"""
            group:
              id: {group}
              name: Group {group}
              district: Test district
              mode: {mode}
              defaults:
                sample_interval: 500ms
                detectors: [illegal_parking]
                real_time: true
                loop: true
            cameras:

            """;
        foreach (var c in cameras)
            text += $"""
                  - id: {c}
                    name: Camera {c}
                    url: {Clip}
                    latitude: 31.23
                    longitude: 121.47
                    zones:
                      - name: road
                        polygon: [[0.0, {zoneTop.ToString(CultureInfo.InvariantCulture)}], [1.0, {zoneTop.ToString(CultureInfo.InvariantCulture)}], [1.0, 1.0], [0.0, 1.0]]
                        case_types: [illegal_parking]

                """;
        File.WriteAllText(Path.Combine(_dir, "cameras", group + ".yaml"), text);
    }

    private async Task StartAsync()
    {
        var config = ConfigLoader.LoadOrThrow(_mainFile);
        _app = CitySightHost.Build(config);
        await _app.StartAsync();
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_grpcPort}");
    }

    private async Task<CameraInfo> Camera(string id) => await Admin.GetCameraAsync(new GetCameraRequest { CameraId = id });

    private static Task UntilAsync(Func<Task<bool>> condition, string what) => Wait.UntilAsync(condition, Patience, what);

    private Task UntilStreamingAsync(string id) =>
        UntilAsync(async () => (await Camera(id)).State == CameraState.Streaming, $"camera {id} streaming");

    /// <summary>citysight_frames_decoded_total of one camera, read from the service's /metrics.</summary>
    private async Task<double> FramesAsync(string id)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync($"http://127.0.0.1:{_httpPort}/metrics");
        var m = Regex.Match(text, $@"^citysight_frames_decoded_total\{{camera=""{Regex.Escape(id)}""[^}}]*\}} (\S+)$", RegexOptions.Multiline);
        return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    private static async Task<StatusCode> StatusOf(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        return e.StatusCode;
    }

    [Fact]
    public async Task Lists_cameras_by_group_and_switches_one_off_and_on()
    {
        var (n1, n2, s1) = (Id("n1"), Id("n2"), Id("s1"));
        WriteGroup("north", 0.3, n1, n2);
        WriteGroup("south", 0.3, s1);
        await StartAsync();
        foreach (var id in new[] { n1, n2, s1 }) await UntilStreamingAsync(id);

        var all = await Admin.ListCamerasAsync(new ListCamerasRequest());
        Assert.Equal(["north", "south"], all.Groups.Select(g => g.Id));
        Assert.Equal([n1, n2], all.Groups[0].Cameras.Select(c => c.Id));
        Assert.All(all.Groups.SelectMany(g => g.Cameras), c =>
        {
            Assert.Equal(IngestMode.Continuous, c.Mode);
            Assert.True(c.Enabled);
            Assert.Equal(CameraState.Streaming, c.State);
            Assert.NotNull(c.LastFrameAge);
        });
        Assert.Equal("Test district", all.Groups[0].District);
        var south = await Admin.ListCamerasAsync(new ListCamerasRequest { GroupId = "south" });
        Assert.Equal([s1], south.Groups.Single().Cameras.Select(c => c.Id));

        // Off: Disabled at once, and its frame count stands still while its neighbour's keeps going.
        var off = await Admin.SetCameraEnabledAsync(new SetCameraEnabledRequest { CameraId = n1, Enabled = false });
        Assert.Equal(CameraState.Disabled, off.State);
        Assert.False(off.Enabled);
        Assert.True(off.Overridden);
        Assert.Contains("admin API", off.Reason);
        var stoppedAt = await FramesAsync(n1);
        var neighbourAt = await FramesAsync(n2);
        await UntilAsync(async () => await FramesAsync(n2) >= neighbourAt + 4, $"4 more frames from {n2}");
        Assert.Equal(stoppedAt, await FramesAsync(n1));
        Assert.Equal(CameraState.Disabled, (await Camera(n1)).State);

        // On again: it connects and streams, counting on from where it was.
        var on = await Admin.SetCameraEnabledAsync(new SetCameraEnabledRequest { CameraId = n1, Enabled = true });
        Assert.True(on.Enabled);
        Assert.False(on.Overridden);
        await UntilStreamingAsync(n1);
        await UntilAsync(async () => await FramesAsync(n1) > stoppedAt, $"new frames from {n1}");
        Assert.True((await Camera(n1)).FramesDecoded > 0);
    }

    private CitySight.Ingest.Patrol.PatrolWorker Patrol => _app!.Services.GetRequiredService<CitySight.Ingest.Patrol.PatrolWorker>();

    private DateTimeOffset? LastVisit(string id) => Patrol.Status().SingleOrDefault(s => s.CameraId == id)?.LastVisit;

    /// <summary>Waits for a visit of camera <paramref name="id"/> that ended after <paramref name="after"/>.</summary>
    private Task UntilVisitedAsync(string id, DateTimeOffset after) =>
        UntilAsync(async () => LastVisit(id) > after && (await Camera(id)).State == CameraState.Patrolled, $"a visit of {id} after {after:O}");

    [Fact]
    public async Task Patrolled_cameras_are_switched_off_and_on_and_reloaded_at_run_time()
    {
        var (p1, p2, p3, n1) = (Id("p1"), Id("p2"), Id("p3"), Id("n1"));
        WritePatrolGroup("rounds", p1, p2);
        WriteGroup("north", 0.3, n1);
        await StartAsync();
        var start = DateTimeOffset.UtcNow.AddMinutes(-1);
        await UntilVisitedAsync(p1, start);
        await UntilVisitedAsync(p2, start);
        var p1Info = await Camera(p1);
        Assert.Equal(IngestMode.Patrol, p1Info.Mode);
        Assert.True(p1Info.Enabled);
        Assert.False(p1Info.Overridden);
        Assert.NotNull(p1Info.LastFrameAge);

        // Off: out of the rotation at once, and not visited again while its neighbour is visited twice more.
        var off = await Admin.SetCameraEnabledAsync(new SetCameraEnabledRequest { CameraId = p1, Enabled = false });
        Assert.Equal(CameraState.Disabled, off.State);
        Assert.False(off.Enabled);
        Assert.True(off.Overridden);
        Assert.Contains("admin API", off.Reason);
        Assert.Null(LastVisit(p1));
        var neighbour = LastVisit(p2)!.Value;
        await UntilVisitedAsync(p2, neighbour);
        await UntilVisitedAsync(p2, LastVisit(p2)!.Value);
        Assert.DoesNotContain(Patrol.Status(), s => s.CameraId == p1);
        Assert.Equal(CameraState.Disabled, (await Camera(p1)).State);

        // On again: back in the rotation, due at once.
        var enabledAt = DateTimeOffset.UtcNow;
        var on = await Admin.SetCameraEnabledAsync(new SetCameraEnabledRequest { CameraId = p1, Enabled = true });
        Assert.True(on.Enabled);
        Assert.False(on.Overridden);
        await UntilVisitedAsync(p1, enabledAt);

        // Reload: p2 goes, p3 joins the patrol, and n1 moves from its stream into the patrol group.
        File.Delete(Path.Combine(_dir, "cameras", "north.yaml"));
        WritePatrolGroup("rounds", p1, p3, n1);
        var reloadedAt = DateTimeOffset.UtcNow;
        var reply = await Admin.ReloadConfigAsync(new ReloadConfigRequest());
        Assert.True(reply.Ok, string.Join("\n", reply.Errors));
        Assert.Equal([p3], reply.Added);
        Assert.Equal([p2], reply.Removed);
        var moved = Assert.Single(reply.Changed);
        Assert.Equal(n1, moved.CameraId);
        Assert.Contains("mode", moved.Fields);
        Assert.Empty(reply.NeedsRestart);

        Assert.DoesNotContain(_app!.Services.GetRequiredService<CitySight.Ingest.IngestWorker>().Sources, s => s.Camera.Id == n1);
        Assert.Equal(StatusCode.NotFound, await StatusOf(() => Admin.GetCameraAsync(new GetCameraRequest { CameraId = p2 }).ResponseAsync));
        Assert.DoesNotContain(Patrol.Status(), s => s.CameraId == p2);
        await UntilVisitedAsync(p3, reloadedAt);
        await UntilVisitedAsync(n1, reloadedAt);
        Assert.Equal(IngestMode.Patrol, (await Camera(n1)).Mode);
        // Its stream is closed: the frames it decoded stand still while the patrol visits it.
        var framesAfter = await FramesAsync(n1);
        await UntilVisitedAsync(n1, LastVisit(n1)!.Value);
        Assert.Equal(framesAfter, await FramesAsync(n1));
        Assert.Equal([p1, p3, n1], (await Admin.ListCamerasAsync(new ListCamerasRequest())).Groups.Single().Cameras.Select(c => c.Id));
    }

    [Fact]
    public async Task With_api_keys_only_the_admin_consumers_may_use_it_and_the_health_check_stays_open()
    {
        const string opsKey = "ops-5b0e93c1d7a24f68e1c3";
        const string dispatchKey = "dsp-0f2a4c6e8b1d3f5a7c9e";
        var env = "CITYSIGHT_TEST_ADMIN_KEYS_" + _run.ToUpperInvariant();
        Environment.SetEnvironmentVariable(env, $"ops={opsKey},xuhui-dispatch={dispatchKey}");
        WriteMain(90, $"""
            delivery:
              grpc:
                api_keys_env: {env}
                admin_consumers: [ops]
            """);
        var n1 = Id("n1");
        WriteGroup("north", 0.3, n1);
        await StartAsync();
        static Metadata Key(string k) => new() { { "x-api-key", k } };

        Assert.Equal(StatusCode.Unauthenticated, await StatusOf(() => Admin.ListCamerasAsync(new ListCamerasRequest()).ResponseAsync));
        Assert.Equal(StatusCode.PermissionDenied, await StatusOf(() =>
            Admin.SetCameraEnabledAsync(new SetCameraEnabledRequest { CameraId = n1, Enabled = false }, Key(dispatchKey)).ResponseAsync));
        Assert.True((await Admin.GetCameraAsync(new GetCameraRequest { CameraId = n1 }, Key(opsKey))).Enabled);   // untouched
        var list = await Admin.ListCamerasAsync(new ListCamerasRequest(), Key(opsKey));
        Assert.Contains(list.Groups.SelectMany(g => g.Cameras), c => c.Id == n1);
        // Dispatch reads its feed with its own key; the load balancer's health check needs none.
        var feed = new CitySight.Delivery.V1.CaseFeed.CaseFeedClient(_channel);
        Assert.Equal(0UL, (await feed.AckAsync(new CitySight.Delivery.V1.AckRequest { Sequence = 0 }, Key(dispatchKey))).AckedSequence);
        var health = new Grpc.Health.V1.Health.HealthClient(_channel);
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving,
            (await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest())).Status);
    }

    [Fact]
    public async Task Malformed_and_unknown_requests_get_their_status_codes()
    {
        var n1 = Id("n1");
        WriteGroup("north", 0.3, n1);
        await StartAsync();

        Assert.Equal(StatusCode.NotFound, await StatusOf(() => Admin.GetCameraAsync(new GetCameraRequest { CameraId = "no-such-camera" }).ResponseAsync));
        Assert.Equal(StatusCode.InvalidArgument, await StatusOf(() => Admin.GetCameraAsync(new GetCameraRequest()).ResponseAsync));
        Assert.Equal(StatusCode.NotFound, await StatusOf(() =>
            Admin.SetCameraEnabledAsync(new SetCameraEnabledRequest { CameraId = "no-such-camera", Enabled = false }).ResponseAsync));
        Assert.Equal(StatusCode.InvalidArgument, await StatusOf(() =>
            Admin.SetCameraEnabledAsync(new SetCameraEnabledRequest { CameraId = "", Enabled = false }).ResponseAsync));
        Assert.Equal(StatusCode.NotFound, await StatusOf(() => Admin.ListCamerasAsync(new ListCamerasRequest { GroupId = "nowhere" }).ResponseAsync));
        // None of that touched the camera.
        Assert.True((await Camera(n1)).Enabled);
    }

    [Fact]
    public async Task Reload_adds_changes_and_removes_cameras_and_refuses_broken_files()
    {
        var (n1, s1) = (Id("n1"), Id("s1"));
        WriteGroup("north", 0.3, n1);
        await StartAsync();
        await UntilStreamingAsync(n1);

        // A new group file: its camera starts.
        WriteGroup("south", 0.3, s1);
        var added = await Admin.ReloadConfigAsync(new ReloadConfigRequest());
        Assert.True(added.Ok, string.Join("\n", added.Errors));
        Assert.Equal([s1], added.Added);
        Assert.Empty(added.Removed);
        Assert.Empty(added.Changed);
        Assert.Empty(added.NeedsRestart);
        await UntilStreamingAsync(s1);
        await UntilAsync(async () => await FramesAsync(s1) > 0, $"frames from {s1}");

        // A broken file: every error named by file and line, and nothing changes.
        File.WriteAllText(Path.Combine(_dir, "cameras", "broken.yaml"), """
            group:
              id: broken
              name: Broken
            cameras:
              - id: b1
                name: B1
                url: rtsp://10.0.0.1/stream
                latitude: 123.4
                longitude: 121.47
            """);
        WriteGroup("south", 0.6, s1); // a valid change in the same reload: not applied either
        var refused = await Admin.ReloadConfigAsync(new ReloadConfigRequest());
        Assert.False(refused.Ok);
        // Every error, in file order: the missing detectors (line 5) and the latitude out of range (line 8).
        Assert.Equal(2, refused.Errors.Count);
        Assert.Matches(@"broken\.yaml:5:\d+: cameras\[0\]\.detectors: ", refused.Errors[0]);
        Assert.Matches(@"broken\.yaml:8:\d+: cameras\[0\]\.latitude: must be between -90 and 90", refused.Errors[1]);
        Assert.Empty(refused.Added);
        Assert.Empty(refused.Changed);
        var list = await Admin.ListCamerasAsync(new ListCamerasRequest());
        Assert.Equal([n1, s1], list.Groups.SelectMany(g => g.Cameras).Select(c => c.Id));
        Assert.All(list.Groups.SelectMany(g => g.Cameras), c => Assert.Equal(CameraState.Streaming, c.State));
        var n1At = await FramesAsync(n1);
        var s1At = await FramesAsync(s1);
        await UntilAsync(async () => await FramesAsync(n1) > n1At && await FramesAsync(s1) > s1At, "both cameras still streaming");

        // Fixed, with the zone change still there and a setting that needs a restart: the camera is restarted with
        // its new zone, the setting is reported and left.
        File.Delete(Path.Combine(_dir, "cameras", "broken.yaml"));
        WriteMain(retentionDays: 30);
        var changed = await Admin.ReloadConfigAsync(new ReloadConfigRequest());
        Assert.True(changed.Ok, string.Join("\n", changed.Errors));
        var change = Assert.Single(changed.Changed);
        Assert.Equal(s1, change.CameraId);
        Assert.Equal(["zones"], change.Fields);
        Assert.Contains(changed.NeedsRestart, r => r.StartsWith("service.evidence_retention_days:"));
        Assert.Empty(changed.Added);
        await UntilStreamingAsync(s1);
        Assert.Equal(0.6, _app!.Services.GetRequiredService<CitySight.Service.Admin.CameraDirectory>().Find(s1)!.Zones[0].Polygon[0].Y);

        // A camera disabled through the API gets its configured state back on reload.
        await Admin.SetCameraEnabledAsync(new SetCameraEnabledRequest { CameraId = n1, Enabled = false });
        // The group file goes: its camera stops and is forgotten.
        File.Delete(Path.Combine(_dir, "cameras", "south.yaml"));
        var removed = await Admin.ReloadConfigAsync(new ReloadConfigRequest());
        Assert.True(removed.Ok, string.Join("\n", removed.Errors));
        Assert.Equal([s1], removed.Removed);
        Assert.Equal([n1], removed.Changed.Select(c => c.CameraId));
        Assert.Equal(StatusCode.NotFound, await StatusOf(() => Admin.GetCameraAsync(new GetCameraRequest { CameraId = s1 }).ResponseAsync));
        Assert.DoesNotContain(_app.Services.GetRequiredService<CitySight.Ingest.IngestWorker>().Sources, s => s.Camera.Id == s1);
        await UntilStreamingAsync(n1);
        Assert.False((await Camera(n1)).Overridden);
    }

    [Fact]
    public async Task Health_is_serving_and_reflection_lists_the_services()
    {
        WriteGroup("north", 0.3, Id("n1"));
        await StartAsync();

        var health = new Health.HealthClient(_channel);
        foreach (var service in new[] { "", "citysight.v1.CaseFeed", "citysight.v1.CameraAdmin" })
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving,
                (await health.CheckAsync(new HealthCheckRequest { Service = service })).Status);
        Assert.Equal(StatusCode.NotFound, await StatusOf(() => health.CheckAsync(new HealthCheckRequest { Service = "no.such.Service" }).ResponseAsync));

        var reflection = new ServerReflection.ServerReflectionClient(_channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "*" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("citysight.v1.CaseFeed", services);
        Assert.Contains("citysight.v1.CameraAdmin", services);
        Assert.Contains("grpc.health.v1.Health", services);

        // Shutting down: NOT_SERVING.
        var impl = _app!.Services.GetRequiredService<HealthServiceImpl>();
        await _app.StopAsync();
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing,
            (await impl.Check(new HealthCheckRequest { Service = "" }, null!)).Status);
        await _app.DisposeAsync();
        _app = null;
    }

    [Fact]
    public async Task The_admin_verb_lists_switches_and_reloads()
    {
        var n1 = Id("n1");
        WriteGroup("north", 0.3, n1);
        await StartAsync();
        await UntilStreamingAsync(n1);
        var server = $"http://127.0.0.1:{_grpcPort}";
        var limit = TimeSpan.FromSeconds(60);

        var (code, stdout, stderr) = await CitysightProcess.RunAsync(limit, "admin", "list", "--server", server);
        Assert.True(code == 0, stderr);
        Assert.Contains("group north", stdout);
        Assert.Matches($@"{n1}\s+streaming\s+continuous\s+on", stdout);

        (code, stdout, stderr) = await CitysightProcess.RunAsync(limit, "admin", "disable", n1, "--server", server);
        Assert.True(code == 0, stderr);
        Assert.Matches($@"{n1}\s+disabled\s+continuous\s+off \(admin\)", stdout);

        (code, _, stderr) = await CitysightProcess.RunAsync(limit, "admin", "get", "no-such-camera", "--server", server);
        Assert.Equal(1, code);
        Assert.Contains("NotFound", stderr);

        File.WriteAllText(Path.Combine(_dir, "cameras", "broken.yaml"), "group: [");
        (code, _, stderr) = await CitysightProcess.RunAsync(limit, "admin", "reload", "--server", server);
        Assert.Equal(2, code);
        Assert.Contains("reload refused, nothing changed", stderr);
        Assert.Contains("broken.yaml:", stderr);
        Assert.Equal(CameraState.Disabled, (await Camera(n1)).State);

        File.Delete(Path.Combine(_dir, "cameras", "broken.yaml"));
        (code, stdout, stderr) = await CitysightProcess.RunAsync(limit, "admin", "reload", "--server", server);
        Assert.True(code == 0, stderr);
        Assert.Contains($"changed  {n1}: enabled", stdout);
        await UntilStreamingAsync(n1);
    }
}
