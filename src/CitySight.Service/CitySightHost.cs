using System.Text.Json;
using CitySight.Cases;
using CitySight.Cases.Sqlite;
using CitySight.Configuration;
using CitySight.Delivery;
using CitySight.Delivery.Mqtt;
using CitySight.Delivery.Push;
using CitySight.Domain;
using CitySight.Inference;
using CitySight.Ingest;
using CitySight.Ingest.Patrol;
using CitySight.Rules;
using CitySight.Service.Admin;
using CitySight.Tracking;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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
            GrpcSecurity.Listen(k, config.Service.GrpcPort, config.Delivery.Grpc);
            k.ListenAnyIP(config.Service.HttpPort, o => o.Protocols = HttpProtocols.Http1);
        });

        var s = builder.Services;
        s.AddSingleton(config);
        var ingestOptions = IngestOptionsOf(config.Ingest);
        s.AddSingleton(ingestOptions);
        s.AddSingleton(new PipelineChannels());
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
        s.AddSingleton(new CameraDirectory(config));
        s.AddSingleton(sp =>
        {
            var cameras = sp.GetRequiredService<CameraDirectory>();
            return new DetectionStage(sp.GetRequiredService<IReadOnlyList<BatchingDetector>>(), cameras.Find,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<DetectionStage>());
        });
        s.AddCaseStore(_ => new SqliteCaseStore(config.Service.DataDir));
        s.AddCitySightDelivery(GrpcSecurity.AuthOptions(config.Delivery.Grpc));
        s.AddSingleton(TimeProvider.System);
        s.AddSingleton(sp => new IngestWorker(config.Cameras, ingestOptions, sp.GetRequiredService<PipelineChannels>().Producers,
            sp.GetRequiredService<ILoggerFactory>()));
        s.AddHostedService(sp => sp.GetRequiredService<IngestWorker>());
        s.TryAddSingleton<ICameraVisitor>(_ => new SnapshotVisitor(ingestOptions));
        s.AddSingleton(sp => new PatrolWorker(IngestWorker.Patrolled(config.Cameras, ingestOptions), sp.GetRequiredService<ICameraVisitor>(),
            sp.GetRequiredService<PipelineChannels>().Producers, ingestOptions, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<PatrolWorker>>()));
        s.AddHostedService(sp => sp.GetRequiredService<PatrolWorker>());
        s.AddHostedService(sp => new DetectionWorker(sp.GetRequiredService<DetectionStage>(), sp.GetRequiredService<PipelineChannels>().Frames,
            sp.GetRequiredService<PipelineChannels>().Detected.Writer));
        // Detected frames → tracking → tracked frames → case raising → the case store (its sink).
        var ruleOptions = CaseRaisingOptions.RulesOf(config.Rules);
        s.AddSingleton(sp => new TrackingStage(config.Cameras, CaseRaisingOptions.TrackerOf(ruleOptions),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<TrackingStage>()));
        s.AddHostedService(sp => new TrackingWorker(sp.GetRequiredService<TrackingStage>(),
            sp.GetRequiredService<PipelineChannels>().Detected.Reader, sp.GetRequiredService<PipelineChannels>().Tracked.Writer));
        s.AddSingleton(sp =>
        {
            var store = sp.GetRequiredService<ICaseRecords>();
            var raiser = new CaseRaiser(store, ruleOptions, CaseRaisingOptions.DedupOf(config.Dedup), config.Groups, config.CaseTypes,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<CaseRaiser>());
            // Dispatch's closures and rejections (through delivery) cool the place down.
            store.StateChanged += e => raiser.OnOutcome(e.Case);
            return raiser;
        });
        s.AddSingleton(sp => new CaseRaisingWorker(sp.GetRequiredService<CaseRaiser>(), sp.GetRequiredService<PipelineChannels>().Tracked.Reader));
        s.AddHostedService(sp => sp.GetRequiredService<CaseRaisingWorker>());
        // Admin API (cameras' states, enable/disable, reload), gRPC health checking and reflection, on the gRPC port.
        s.AddSingleton<CameraAdministrator>();
        s.AddSingleton<HealthServiceImpl>();
        s.AddGrpcReflection();
        s.AddHostedService<EvidenceRetentionWorker>();
        if (config.Delivery.Mqtt is { } mqtt)
        {
            var mqttOptions = MqttOptionsOf(mqtt);
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
            var pushKey = push.ApiKeyEnv is { } keyEnv ? Environment.GetEnvironmentVariable(keyEnv)
                ?? throw new InvalidOperationException($"delivery.push.api_key_env: environment variable {keyEnv} is not set") : null;
            var pushOptions = new DispatchPushOptions
            {
                Endpoint = push.Endpoint, Consumer = push.Consumer, ApiKey = pushKey, CaFile = push.CaFile, ClientCert = push.ClientCert,
                ClientKey = push.ClientKey, IncludeEvidence = push.IncludeEvidence, MaxBackoff = push.MaxBackoff,
                MinBackoff = push.MinBackoff, Window = push.Window, ReceiptTimeout = push.ReceiptTimeout, ConnectTimeout = push.ConnectTimeout,
            };
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
        var health = app.Services.GetRequiredService<HealthServiceImpl>();
        app.Lifetime.ApplicationStarted.Register(() => SetHealth(health, HealthCheckResponse.Types.ServingStatus.Serving));
        app.Lifetime.ApplicationStopping.Register(() => SetHealth(health, HealthCheckResponse.Types.ServingStatus.NotServing));
        app.MapMetrics("/metrics");
        app.MapGet("/healthz", (IngestWorker ingest, PatrolWorker patrol) => Results.Json(Health(ingest, patrol), JsonOptions));
        return app;
    }

    /// <summary>Loads one model as configured and says where it really runs; a provider that is not there falls back to CPU, loudly.</summary>
    public static BatchingDetector StartDetector(DetectorSettings run, ModelSpec spec, string path, ILogger log)
    {
        var detector = new BatchingDetector(spec, path, OptionsOf(run), log);
        if (detector.Provider.FellBack)
            log.LogWarning("Model {Model}: provider {Requested} was asked for, but {Reason}", spec.Name,
                run.Provider.ToString().ToLowerInvariant(), detector.Provider.FallbackReason);
        log.LogInformation(
            "Model {Model} ({Layout}) loaded from {Path}: runs on {Provider}, {Batch} frame(s) per run ({BatchKind} batch), {Instances} session(s), {Threads} thread(s)",
            spec.Name, detector.OutputLayout, Path.GetFileName(path), detector.Provider.OrtName, detector.BatchCapacity,
            detector.DynamicBatch ? "dynamic" : "fixed", detector.Instances, run.Threads == 0 ? "auto" : run.Threads.ToString());
        return detector;
    }

    /// <summary>delivery.mqtt as the publisher takes it, with the password read from its environment variable now.</summary>
    public static MqttOptions MqttOptionsOf(MqttSettings m)
    {
        string? password = null;
        if (m.PasswordEnv is { } env)
            // Name the variable, never its value.
            password = Environment.GetEnvironmentVariable(env)
                ?? throw new InvalidOperationException($"delivery.mqtt.password_env: environment variable {env} is not set");
        return new MqttOptions
        {
            Host = m.Host,
            Port = m.Port,
            ClientId = m.ClientId,
            TopicPrefix = m.TopicPrefix,
            Username = m.Username,
            Password = password,
            KeepAlive = m.KeepAlive,
            Tls = new MqttTlsOptions
            {
                Enabled = m.Tls.Enabled,
                CaFile = m.Tls.CaFile,
                ClientCert = m.Tls.ClientCert,
                ClientKey = m.Tls.ClientKey,
                AllowUntrusted = m.Tls.AllowUntrusted,
            },
        };
    }

    /// <summary>The services grpc.health.v1 reports on: the server as a whole ("") and each CitySight service.</summary>
    public static readonly string[] HealthServices = ["", "citysight.v1.CaseFeed", "citysight.v1.CameraAdmin"];

    private static void SetHealth(HealthServiceImpl health, HealthCheckResponse.Types.ServingStatus status)
    {
        foreach (var name in HealthServices) health.SetStatus(name, status);
    }

    private static MqttCameraStatus CameraStatusOf(CitySight.Ingest.CameraStatus st) =>
        new(st.CameraId, st.State.ToString().ToLowerInvariant(), st.Reason, st.Since);

    /// <summary>ingest as the ingest stage takes it (the one place the settings become its options).</summary>
    public static IngestOptions IngestOptionsOf(IngestSettings ingest) => new()
    {
        MaxStreams = ingest.MaxStreams,
        PatrolConcurrency = ingest.PatrolConcurrency,
        SnapshotTimeout = ingest.SnapshotTimeout,
        MaxFrameWidth = ingest.MaxFrameWidth,
        MaxFrameHeight = ingest.MaxFrameHeight,
    };

    public static DetectorOptions OptionsOf(DetectorSettings run) => new()
    {
        Provider = run.Provider,
        DeviceId = run.DeviceId,
        Threads = run.Threads,
        MaxBatch = run.MaxBatch,
        MaxWait = run.MaxWait,
        Instances = run.Instances,
    };

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private static object Health(IngestWorker ingest, PatrolWorker patrol) => new
    {
        status = "serving",
        cameras = ingest.Sources.Select(src => new
        {
            id = src.Camera.Id,
            group = src.Camera.GroupId,
            mode = "continuous",
            state = src.Status.State.ToString(),
            reason = src.Status.Reason,
            last_frame = src.Status.LastFrameCaptureTime,
            frames = src.Status.FramesDecoded,
            reconnects = src.Status.Reconnects,
        }),
        patrol = new
        {
            worst_gap_s = patrol.WorstGap.TotalSeconds,
            cameras = patrol.Status().Select(p => new
            {
                id = p.CameraId,
                visiting = p.Visiting,
                last_visit = p.LastVisit,
                due = p.DueAt,
                last_gap_s = p.LastGap?.TotalSeconds,
                failures = p.ConsecutiveFailures,
                reason = p.Reason,
            }),
        },
    };
}
