using System.Net;
using System.Text.Json;
using CitySight.Cases;
using CitySight.Cases.Postgres;
using CitySight.Cases.Sqlite;
using CitySight.Cluster;
using CitySight.CommandCentre;
using CitySight.Configuration;
using CitySight.Delivery;
using CitySight.Delivery.Mqtt;
using CitySight.Delivery.Push;
using CitySight.Imaging;
using CitySight.Inference;
using CitySight.Ingest;
using CitySight.Ingest.Patrol;
using CitySight.Rules;
using CitySight.Service.Admin;
using CitySight.Service.Cluster;
using CitySight.Tracking;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace CitySight.Service;

/// <summary>Builds the CitySight service from a validated configuration.</summary>
public static class CitySightHost
{
    /// <summary>
    /// Loads the model and opens the store before anything listens, so a missing model or an unwritable
    /// data folder stops start-up with a clear message instead of a half-running service.
    /// </summary>
    public static WebApplication Build(CitySightConfig config, Action<ILoggingBuilder>? logging = null)
    {
        // Refuse an open port before anything loads; a port opened on purpose is said loudly (log and /healthz).
        var bind = IPAddress.Parse(config.Service.BindAddress);
        var exposure = GrpcSecurity.CheckExposure(bind, config.Delivery.Grpc);

        var manifest = ModelManifest.Load(config.Models.Manifest);
        var models = config.Models.Run
            .Select(run =>
            {
                var spec = manifest.Get(run.Model);
                return (Run: run, Spec: spec, Path: ModelLocator.Locate(spec, config.Models.SearchPaths));
            })
            .ToList();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        logging?.Invoke(builder.Logging);

        builder.WebHost.ConfigureKestrel(k =>
        {
            GrpcSecurity.Listen(k, bind, config.Service.GrpcPort, config.Delivery.Grpc);
            GrpcSecurity.On(k, bind, config.Service.HttpPort, o => o.Protocols = HttpProtocols.Http1);
        });

        var s = builder.Services;
        s.AddSingleton(config);
        s.AddSingleton(config.Ingest);
        // Each camera's latest picture for the console, taken on the frames' way to the detector.
        s.AddSingleton(new PipelineChannels(new CameraPictures(config.Pictures.Interval)));
        s.AddSingleton<IReadOnlyList<BatchingDetector>>(sp =>
        {
            var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("CitySight.Inference");
            var detectors = new List<BatchingDetector>();
            try
            {
                foreach (var (run, spec, path) in models)
                    detectors.Add(StartDetector(run, spec, path, log));
            }
            catch
            {
                foreach (var d in detectors) d.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }
            return detectors;
        });
        // The cameras in force now: the start-up configuration, then each admin reload's camera changes.
        // A cluster (the postgres backend): every node loads the same files and runs only the cameras it owns, none at
        // first (the ownership loop hands them out within a lease). One node (sqlite) runs them all.
        var clustered = config.Store.Backend == StoreBackend.Postgres;
        s.AddSingleton(new CameraDirectory(config, clustered ? new HashSet<string>() : null));
        s.AddSingleton(new ClusterPlacement(config.Cluster.NodeId));
        s.AddSingleton(sp =>
        {
            var cameras = sp.GetRequiredService<CameraDirectory>();
            return new DetectionStage(sp.GetRequiredService<IReadOnlyList<BatchingDetector>>(), cameras.Find,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<DetectionStage>(), config.Models.StaticObjects);
        });
        if (clustered)
        {
            // Read now, named by its variable (store.postgres.connection_string_env), never logged.
            var pg = config.Store.PostgresConnectionString();
            s.AddCaseStore(sp => new PostgresCaseStore(pg, config.Cluster.NodeId, sp.GetRequiredService<ILoggerFactory>().CreateLogger<PostgresCaseStore>(),
                SamePlace(config)));
            s.AddSingleton(sp => new CameraOwnership(pg, config.Cluster.NodeId,
                new ClusterOptions { Lease = config.Cluster.Lease, Capacity = config.Cluster.Capacity },
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<CameraOwnership>()));
            s.AddHostedService(sp => new ClusterNode(sp.GetRequiredService<CameraOwnership>(), sp.GetRequiredService<CameraAdministrator>(),
                sp.GetRequiredService<CameraDirectory>(), sp.GetRequiredService<ClusterPlacement>(), pg, sp.GetRequiredService<ILogger<ClusterNode>>()));
            s.AddHostedService<SharedCaseFollower>();
        }
        else
        {
            s.AddCaseStore(sp => new SqliteCaseStore(config.Service.DataDir, config.Service.ReserveFreeMegabytes * 1024L * 1024,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<SqliteCaseStore>()));
        }
        // CitySight's own channels' cursors (push outbox, MQTT publishers) cannot be named through CaseFeed.
        var auth = config.Delivery.Grpc.AuthOptions();
        if (config.Delivery.Push is { } ownPush) auth = auth with { InternalConsumers = [.. auth.InternalConsumers, ownPush.Consumer] };
        s.AddCitySightDelivery(auth, config.Delivery.Grpc.Subscribers);
        s.AddSingleton(TimeProvider.System);
        s.AddSingleton(sp =>
        {
            var ingest = new IngestWorker(sp.GetRequiredService<CameraDirectory>().Config.Cameras, config.Ingest,
                sp.GetRequiredService<PipelineChannels>().Producers, sp.GetRequiredService<ILoggerFactory>());
            // A node of a cluster starts with no camera and takes its share as the leases say: it never "runs out".
            if (clustered) ingest.StayRunning();
            return ingest;
        });
        s.AddHostedService(sp => sp.GetRequiredService<IngestWorker>());
        s.TryAddSingleton<ICameraVisitor>(_ => new SnapshotVisitor(config.Ingest));
        s.AddSingleton(sp => new PatrolWorker(IngestWorker.Patrolled(sp.GetRequiredService<CameraDirectory>().Config.Cameras, config.Ingest),
            sp.GetRequiredService<ICameraVisitor>(),
            sp.GetRequiredService<PipelineChannels>().Producers, config.Ingest, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<PatrolWorker>>()));
        s.AddHostedService(sp => sp.GetRequiredService<PatrolWorker>());
        s.AddHostedService(sp => new DetectionWorker(sp.GetRequiredService<DetectionStage>(), sp.GetRequiredService<PipelineChannels>().Frames,
            sp.GetRequiredService<PipelineChannels>().Detected.Writer));
        // Detected frames → tracking → tracked frames → case raising → the case store (its sink).
        // What counts as stationary is each case type's own (rules.case_types.TYPE.stationary_radius): the tracker asks the rules.
        var trackerOptions = new TrackerOptions { StationaryRadiusFor = type => (float)config.Rules.RuleFor(type).StationaryRadius };
        s.AddSingleton(sp => new TrackingStage(config.Cameras, trackerOptions,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<TrackingStage>()));
        s.AddHostedService(sp => new TrackingWorker(sp.GetRequiredService<TrackingStage>(),
            sp.GetRequiredService<PipelineChannels>().Detected.Reader, sp.GetRequiredService<PipelineChannels>().Tracked.Writer));
        s.AddSingleton(sp =>
        {
            var store = sp.GetRequiredService<ICaseRecords>();
            // The scene views for a static object's before / after pair are taken far enough apart that the oldest
            // predates anything the static-object pass reports (it waits settle_time before it does).
            var settle = config.Models.StaticObjects.SettleTime;
            var rules = config.Rules with { BeforeViewInterval = settle > TimeSpan.FromMinutes(1) ? settle : TimeSpan.FromMinutes(1) };
            var raiser = new CaseRaiser(store, rules, config.Dedup, config.Groups, config.CaseTypes,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<CaseRaiser>(), maxWaitingCases: config.Service.MaxWaitingCases);
            // Dispatch's closures and rejections (through delivery) cool the place down.
            store.StateChanged += e => raiser.OnOutcome(e.Case);
            return raiser;
        });
        s.AddSingleton(sp => new CaseRaisingWorker(sp.GetRequiredService<CaseRaiser>(), sp.GetRequiredService<PipelineChannels>().Tracked.Reader));
        s.AddHostedService(sp => sp.GetRequiredService<CaseRaisingWorker>());
        // Admin API (cameras' states, enable/disable, reload), gRPC health checking and reflection, on the gRPC port.
        s.AddSingleton<CameraAdministrator>();
        s.AddSingleton<ConsoleZoneBook>();
        s.AddSingleton<HealthServiceImpl>();
        s.AddGrpcReflection();
        s.AddCommandCentre();
        s.AddSingleton(config.Service.EvidenceRetention);
        s.AddHostedService<EvidenceRetentionWorker>();
        // Freed native memory back to the system every 30 s (glibc keeps it per thread otherwise; issue 14).
        s.AddHostedService(_ => new NativeHeapTrimWorker());
        if (config.Delivery.Mqtt is { } mqtt)
        {
            // The password is read now (named by its variable, never logged).
            var mqttOptions = mqtt.WithPasswordFromEnvironment();
            s.AddSingleton(sp =>
            {
                var publisher = new MqttCasePublisher(mqttOptions, sp.GetRequiredService<ICaseFeed>(),
                    sp.GetRequiredService<ILogger<MqttCasePublisher>>(), sp.GetRequiredService<TimeProvider>());
                // Continuous cameras: every state change goes out retained on {prefix}/cameras/{id}/status.
                var ingest = sp.GetRequiredService<IngestWorker>();
                foreach (var src in ingest.Sources)
                {
                    src.StatusChanged += (_, st) => publisher.ReportCameraStatus(CameraStatusOf(st));
                    publisher.ReportCameraStatus(CameraStatusOf(src.Status));
                }
                // Streams added, restarted or disabled through the admin API.
                ingest.SourceAdded += src => src.StatusChanged += (_, st) => publisher.ReportCameraStatus(CameraStatusOf(st));
                // Patrolled cameras: "patrolled" while visits succeed, "offline" with the reason once they fail; "disabled"
                // or "stopped" when the admin API or a reload takes them out of the rotation.
                sp.GetRequiredService<PatrolWorker>().HealthChanged += (id, health, reason, at) =>
                    publisher.ReportCameraStatus(new MqttCameraStatus(id, health.ToString().ToLowerInvariant(), reason, at));
                return publisher;
            });
            s.AddHostedService(sp => sp.GetRequiredService<MqttCasePublisher>());
        }
        if (config.Delivery.Push is { } push)
        {
            // The key is read now (named by its variable, never logged); dispatch receipts move the outbox cursor.
            var pushOptions = push.WithApiKeyFromEnvironment();
            s.AddSingleton(sp => new DispatchPushClient(pushOptions, sp.GetRequiredService<ICaseFeed>(),
                sp.GetRequiredService<ILogger<DispatchPushClient>>(), sp.GetRequiredService<TimeProvider>()));
            s.AddHostedService(sp => sp.GetRequiredService<DispatchPushClient>());
        }

        var app = builder.Build();
        // Fail now, not on the first frame.
        app.Services.GetRequiredService<DetectionStage>();
        app.Services.GetRequiredService<ICaseStore>();

        app.MapCitySightDelivery();
        app.MapGrpcService<CameraAdminService>();
        app.MapGrpcService<HealthServiceImpl>();
        app.MapGrpcReflectionService();
        if (exposure is not null) app.Logger.LogWarning("Security: {Warning}", exposure);
        var health = app.Services.GetRequiredService<HealthServiceImpl>();
        var raiser = app.Services.GetRequiredService<CaseRaiser>();
        // Serving while the case store can be written; a storage fault (disk full, read-only) is NOT_SERVING until it clears.
        app.Lifetime.ApplicationStarted.Register(() => SetHealth(health, raiser.StoreProblem is null
            ? HealthCheckResponse.Types.ServingStatus.Serving : HealthCheckResponse.Types.ServingStatus.NotServing));
        raiser.StoreProblemChanged += p =>
        {
            if (app.Lifetime.ApplicationStopping.IsCancellationRequested) return;
            SetHealth(health, p is null ? HealthCheckResponse.Types.ServingStatus.Serving : HealthCheckResponse.Types.ServingStatus.NotServing);
        };
        app.Lifetime.ApplicationStopping.Register(() => SetHealth(health, HealthCheckResponse.Types.ServingStatus.NotServing));
        app.MapMetrics("/metrics");
        app.MapGet("/healthz", (IngestWorker ingest, PatrolWorker patrol, CameraDirectory cameras) =>
            Results.Json(HealthReport.Of(ingest, patrol, cameras.Find, exposure, raiser.StoreProblem, raiser.WaitingCases,
                app.Services.GetRequiredService<ClusterPlacement>().NodeId), JsonOptions));
        // The command-centre console at "/" of the HTTP port: the cameras as the admin API sees them, reasons without URLs.
        var admin = app.Services.GetRequiredService<CameraAdministrator>();
        var directory = app.Services.GetRequiredService<CameraDirectory>();
        var streams = app.Services.GetRequiredService<IngestWorker>();
        app.MapCommandCentre(new CommandCentreOptions
        {
            Cameras = () => ConsoleCameras(admin, directory, streams), Port = config.Service.HttpPort, TimeZone = config.Service.TimeZone,
            // The wall's enable / disable: the admin API's own switch (the console checks admin_consumers or this machine first).
            SwitchCamera = (id, enabled, ct) => SwitchCamera(admin, directory, streams, id, enabled, ct),
            Pictures = ConsolePictures(app.Services.GetRequiredService<PipelineChannels>().Pictures),
            Zones = app.Services.GetRequiredService<ConsoleZoneBook>(),
            Detector = DetectorCountersOf(app.Services.GetRequiredService<DetectionStage>()),
            MapGeoJson = config.Console.MapGeoJson,
        });
        return app;
    }

    /// <summary>Loads one model as configured and says where it really runs; a provider that is not there falls back to CPU, loudly.</summary>
    public static BatchingDetector StartDetector(ModelRun run, ModelSpec spec, string path, ILogger log)
    {
        var detector = new BatchingDetector(spec, path, run.Detector, log);
        if (detector.Provider.FellBack)
            log.LogWarning("Model {Model}: provider {Requested} was asked for, but {Reason}", spec.Name,
                run.Detector.Provider.ToString().ToLowerInvariant(), detector.Provider.FallbackReason);
        log.LogInformation(
            "Model {Model} ({Layout}) loaded from {Path}: runs on {Provider}, {Batch} frame(s) per run ({BatchKind} batch), {Instances} session(s), {Threads} thread(s)",
            spec.Name, detector.OutputLayout, Path.GetFileName(path), detector.Provider.OrtName, detector.BatchCapacity,
            detector.DynamicBatch ? "dynamic" : "fixed", detector.Instances, run.Detector.Threads == 0 ? "auto" : run.Detector.Threads.ToString());
        return detector;
    }

    /// <summary>The services grpc.health.v1 reports on: the server as a whole ("") and each CitySight service.</summary>
    public static readonly string[] HealthServices = ["", "citysight.v1.CaseFeed", "citysight.v1.CameraAdmin"];

    /// <summary>
    /// What the shared store decides in the database when two nodes raise at once: a new case joins another camera's open
    /// case of its type within dedup.same_place_radius, seen within dedup.window (the rules' own test, across nodes).
    /// </summary>
    private static SamePlace SamePlace(CitySightConfig config) => new(config.Dedup.SamePlaceRadiusMetres, config.Dedup.Window);

    private static void SetHealth(HealthServiceImpl health, HealthCheckResponse.Types.ServingStatus status)
    {
        foreach (var name in HealthServices) health.SetStatus(name, status);
    }

    private static List<ConsoleCamera> ConsoleCameras(CameraAdministrator admin, CameraDirectory directory, IngestWorker streams)
    {
        // Frames/s from each stream's own counter (CameraSource.Status); a patrolled camera has none.
        var rates = streams.Sources.ToDictionary(s => s.Camera.Id, s => s.Status.FramesPerSecond);
        return admin.List(null)!.Groups.SelectMany(g => g.Cameras.Select(c =>
            ConsoleCameraOf(c, g.Id, g.Name, g.Street, directory, rates.GetValueOrDefault(c.Id)))).ToList();
    }

    private static ConsoleCamera ConsoleCameraOf(CitySight.Admin.V1.CameraInfo c, string groupId, string groupName, string street,
        CameraDirectory directory, double? framesPerSecond)
    {
        var camera = directory.Find(c.Id);
        return new ConsoleCamera(c.Id, c.Name, groupId, groupName, c.State.ToString().ToLowerInvariant(),
            string.IsNullOrEmpty(c.Reason) ? null : HealthReport.WithoutUrl(c.Reason, camera), camera?.Latitude ?? 0, camera?.Longitude ?? 0,
            c.LastFrameAge?.ToTimeSpan().TotalSeconds, street,
            c.Mode == CitySight.Admin.V1.IngestMode.Patrol ? "patrol" : "continuous",
            c.State == CitySight.Admin.V1.CameraState.Streaming ? framesPerSecond : null);
    }

    private static async Task<ConsoleCamera?> SwitchCamera(CameraAdministrator admin, CameraDirectory directory, IngestWorker streams,
        string id, bool enabled, CancellationToken ct)
    {
        CitySight.Admin.V1.CameraInfo? info;
        try
        {
            info = await admin.SetEnabledAsync(id, enabled, ct);
        }
        catch (CameraAdminException e)
        {
            throw new InvalidOperationException(e.Message);
        }
        if (info is null) return null;
        var group = directory.GroupOf(id);
        return ConsoleCameraOf(info, group?.Id ?? info.GroupId, group?.Name ?? info.GroupId, group?.Street ?? "", directory,
            streams.Find(id)?.Source.Status.FramesPerSecond);
    }

    private static CameraPictureSource ConsolePictures(CameraPictures? pictures) =>
        id => pictures?.Latest(id) is { } p ? new ConsolePicture(p.Jpeg, p.CapturedAt) : null;

    /// <summary>The console's detector figures: frames each model ran, and the frames the mailboxes dropped.</summary>
    private static Func<DetectorCounters> DetectorCountersOf(DetectionStage stage) => () => new DetectorCounters(
        stage.Detectors.GroupBy(d => d.Spec.Name).ToDictionary(g => g.Key, g => g.Sum(d => d.Frames)),
        FrameMailboxes.DroppedTotal);

    private static MqttCameraStatus CameraStatusOf(CitySight.Ingest.CameraStatus st) =>
        new(st.CameraId, st.State.ToString().ToLowerInvariant(), HealthReport.WithoutUrl(st.Reason, null), st.Since);

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };
}
