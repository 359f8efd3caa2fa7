using CitySight.Cases;
using CitySight.Domain;
using CitySight.Inference;
using CitySight.Inference.StaticObjects;
using CitySight.Ingest;
using CitySight.Rules;
using static CitySight.Configuration.ConfigKeyKind;

namespace CitySight.Configuration;

/// <summary>The keys of configs/citysight.yaml (see the recipe in ConfigKeys.cs).</summary>
public static partial class ConfigKeys
{
    private const ConfigFile M = ConfigFile.Main;

    private static IEnumerable<ConfigKey> MainFile()
    {
        yield return Container(M, "service", Mapping, "Ports, data folder, local time and evidence retention of the service.");
        var service = new KeysOf<ServiceSettings>(M, new(), c => c.Service);
        yield return service.Key("service.grpc_port", Int, s => s.GrpcPort, "CaseFeed gRPC port; not the HTTP port.", "50052", min: 1, max: 65535);
        yield return service.Key("service.http_port", Int, s => s.HttpPort, "/metrics and /healthz port (HTTP/1).", "8081", min: 1, max: 65535);
        yield return service.Key("service.bind_address", Text, s => s.BindAddress,
            "IP address both ports listen on; another than loopback needs delivery.grpc authentication.", "127.0.0.2");
        yield return service.Key("service.data_dir", ConfigKeyKind.Path, s => s.DataDir, "Folder of the SQLite case store and the evidence images.", "elsewhere");
        yield return service.Key("service.reserve_free_mb", Int, s => s.ReserveFreeMegabytes,
            "Free space (MiB) kept for the case database: below it pictures wait instead of being written; 0 keeps none.", "128", min: 0, max: 1_000_000);
        yield return service.Key("service.max_waiting_cases", Int, s => s.MaxWaitingCases,
            "Cases held in memory while the store cannot be written; past it a place is raised again at a later sighting.", "50", min: 1, max: 1_000_000);
        yield return service.Key("service.timezone", Text, s => s.TimeZone.Id, "Local time (IANA id) for zone schedules of groups that set none.", "Asia/Urumqi");
        var evidence = new KeysOf<EvidenceRetentionOptions>(M, new(), c => c.Service.EvidenceRetention);
        yield return evidence.Key("service.evidence_retention_days", Int, s => s.EvidenceRetentionDays,
            "Pictures of cases closed or rejected longer ago than this are deleted.", "30", min: 1, max: 36500);
        yield return evidence.Key("service.evidence_max_gb", Number, s => s.EvidenceMaxGigabytes,
            "Above this the evidence folder sheds the oldest closed cases' pictures first.", "20", min: 0, max: 1_000_000, minExclusive: true);

        yield return Container(M, "models", Mapping, "Which models run, and where their files are.");
        var models = new KeysOf<ModelSettings>(M, new(), c => c.Models);
        yield return models.Key("models.manifest", ConfigKeyKind.Path, m => m.Manifest, "The model manifest (models/manifest.yaml).", "other/manifest.yaml");
        yield return models.Key("models.detector", Text, m => m.Run[0].Model, "Shorthand for one model on the CPU; not with run.", "other-model");
        yield return models.Key("models.search_paths", TextList, m => string.Join(";", m.SearchPaths), "Folders searched in order for the model file.", "[weights]");
        yield return models.Key("models.threads", Int, m => m.Run[0].Detector.Threads, "Threads of the detector shorthand; not with run.", "2", min: 0, max: 1024);
        yield return Container(M, "models.run", List, "The models run at once, each with its provider and batching.");
        var runModel = new KeysOf<ModelRun>(M, new() { Model = "" }, c => c.Models.Run[0]);
        yield return runModel.Key("models.run[].model", Text, d => d.Model, "Name of the manifest entry; listed at most once.", "other-model", required: true);
        var run = new KeysOf<DetectorOptions>(M, new(), c => c.Models.Run[0].Detector);
        yield return run.Choice("models.run[].provider", d => d.Provider, "Execution provider; an unavailable one falls back to the CPU.", "cuda");
        yield return run.Key("models.run[].device_id", Int, d => d.DeviceId, "GPU index (openvino: 0 = CPU, N = GPU.(N-1)).", "1", min: 0, max: 64);
        yield return run.Key("models.run[].threads", Int, d => d.Threads, "ONNX Runtime intra-op threads per session; 0 lets it choose.", "2", min: 0, max: 1024);
        yield return run.Key("models.run[].max_batch", Int, d => d.MaxBatch, "Most frames, from any cameras, in one run.", "8", min: 1, max: 256);
        yield return run.Key("models.run[].max_wait", Duration, d => d.MaxWait, "How long a batch's first frame may wait for more; 0 never waits.", "20ms", min: 0);
        yield return run.Key("models.run[].instances", Int, d => d.Instances, "Sessions of this model running side by side.", "2", min: 1, max: 64);
        yield return Container(M, "models.static_objects", Mapping, "The model-free static-object pass (garbage, billboards) beside the models.");
        var still = new KeysOf<StaticObjectOptions>(M, new(), c => c.Models.StaticObjects);
        yield return still.Key("models.static_objects.settle_time", Duration, o => o.SettleTime,
            "How long a change must stay unchanged before it is reported; less than absorb_time.", "1m", min: 0);
        yield return still.Key("models.static_objects.absorb_time", Duration, o => o.AbsorbTime,
            "How long a still change is reported before it becomes the scene; longer than settle_time and any dwell.", "4h", min: 0, minExclusive: true);
        yield return still.Key("models.static_objects.difference_threshold", Number, o => o.DifferenceThreshold,
            "Grey levels (frame normalised to a median of 128) a cell must differ from the scene to count as changed.", "30", min: 0, max: 255, minExclusive: true);
        yield return still.Key("models.static_objects.min_region_fraction", Number, o => o.MinRegionFraction,
            "Smallest region reported, as a fraction of the frame's area; below max_region_fraction.", "0.002", min: 0, max: 1);
        yield return still.Key("models.static_objects.max_region_fraction", Number, o => o.MaxRegionFraction,
            "Largest region reported, as a fraction of the frame's area; bigger is a scene change.", "0.3", min: 0, max: 1, minExclusive: true);
        yield return still.Key("models.static_objects.global_change_fraction", Number, o => o.GlobalChangeFraction,
            "More of the frame than this changed at once is a lighting switch: the scene is re-learnt.", "0.4", min: 0, max: 1, minExclusive: true);
        yield return still.Key("models.static_objects.exposure_jump_ratio", Number, o => o.ExposureJumpRatio,
            "A step of the median brightness by more than this factor is an exposure switch: the scene is re-learnt.", "1.5", min: 1, max: 10, minExclusive: true);

        yield return Container(M, "rules", Mapping, "When detections become cases.");
        var rules = new KeysOf<RuleOptions>(M, new(), c => c.Rules);
        yield return rules.Key("rules.min_confidence", Number, r => r.MinConfidence, "Detections below this confidence are ignored.", "0.5", min: 0, max: 1);
        yield return rules.Key("rules.confirm_samples", Int, r => r.ConfirmSamples, "Consecutive samples an object is seen on before a case is raised.", "5", min: 1);
        yield return rules.Key("rules.same_object_iou", Number, r => r.SameObjectIoU, "Boxes overlapping at least this much (IoU) are the same object.", "0.5", min: 0, max: 1, minExclusive: true);
        yield return rules.Key("rules.dedup_window", Duration, r => r.DedupWindow, "Same camera: a sighting this soon after a case's last updates it; 0 turns it off.", "5m", min: 0);
        yield return Container(M, "rules.case_types", MapById, "Per case type id: what it overrides of that type's built-in rules.");
        var typeRules = new KeysOf<CaseTypeRuleOverrides>(M, new(), c => c.Rules.CaseTypes?.GetValueOrDefault("illegal_parking") ?? new());
        yield return typeRules.Key("rules.case_types.TYPE.min_confidence", Number, o => o.MinConfidence, "This type's confidence threshold.", "0.6", min: 0, max: 1, hasDefault: false);
        yield return typeRules.Key("rules.case_types.TYPE.min_dwell", Duration, o => o.MinDwell, "How long the object must be there before a case is raised.", "2m", min: 0, max: TimeSpan.FromDays(1).TotalSeconds, hasDefault: false);
        yield return typeRules.Key("rules.case_types.TYPE.stationary", Bool, o => o.RequireStationary, "The dwell counts only while the object stays put.", "false", hasDefault: false);
        yield return typeRules.Key("rules.case_types.TYPE.stationary_radius", Number, o => o.StationaryRadius,
            "How far the box's bottom centre may wander and still be stationary, in box heights.", "0.5", min: 0, max: 1, minExclusive: true, hasDefault: false);
        yield return typeRules.Key("rules.case_types.TYPE.report_once", Bool, o => o.ReportOnce, "A static object is reported once while it stays.", "true", hasDefault: false);
        yield return Container(M, "rules.street_stall", Mapping, "What makes a person who stayed a street stall: goods beside them.");
        yield return rules.Key("rules.street_stall.item_still", Duration, r => r.StallItemStill,
            "The goods (a static object, umbrella, table, chair, cart) must have stood still this long.", "2m", min: 0, max: TimeSpan.FromHours(1).TotalSeconds);
        yield return rules.Key("rules.street_stall.reach", Number, r => r.StallReach,
            "The goods must be within this many of the person's heights of the person's foot.", "1.5", min: 0, max: 10, minExclusive: true);

        yield return Container(M, "dedup", Mapping, "One case per real event across cameras.");
        var dedup = new KeysOf<SiteDedupOptions>(M, new(), c => c.Dedup);
        yield return dedup.Key("dedup.same_place_radius_m", Number, d => d.SamePlaceRadiusMetres, "Hits of a type this close on the ground (metres) are one place.", "25", min: 0, max: 1000, minExclusive: true);
        yield return dedup.Key("dedup.window", Duration, d => d.Window, "A hit at the same place this soon after the case's last sighting is that case.", "1h", min: 0);
        yield return dedup.Key("dedup.cooldown", Duration, d => d.Cooldown, "After a case is closed, how long before the place raises that type again.", "1h", min: 0);
        yield return dedup.Key("dedup.reject_cooldown", Duration, d => d.RejectCooldown, "After dispatch rejects a case, how long the place raises nothing of that type.", "48h", min: 0);

        yield return Container(M, "ingest", Mapping, "How many streams and patrol visits this machine holds.");
        var ingest = new KeysOf<IngestOptions>(M, new(), c => c.Ingest);
        yield return ingest.Key("ingest.max_streams", Int, i => i.MaxStreams, "Continuous streams held open at once; cameras beyond are patrolled.", "16", min: 0, max: 100_000);
        yield return ingest.Key("ingest.patrol_concurrency", Int, i => i.PatrolConcurrency, "Patrol visits in flight at once.", "4", min: 1, max: 1024);
        yield return ingest.Key("ingest.snapshot_timeout", Duration, i => i.SnapshotTimeout, "A patrol visit without a frame this long is a failure.", "5s", min: 0, minExclusive: true);
        yield return ingest.Key("ingest.max_frame_width", Int, i => i.MaxFrameWidth, "Wider frames are scaled down in the decoder; 0 = no limit.", "1280", min: 0, max: 16384);
        yield return ingest.Key("ingest.max_frame_height", Int, i => i.MaxFrameHeight, "Taller frames are scaled down in the decoder; 0 = no limit.", "720", min: 0, max: 16384);
        yield return ingest.Key("ingest.max_frame_pixels", Int, i => i.MaxFramePixels, "Largest picture a camera may send, in pixels (ffmpeg -max_pixels); larger streams fail.", "2073600", min: 1, max: int.MaxValue);
        yield return ingest.Key("ingest.rtsps_ca_file", ConfigKeyKind.File, i => i.RtspsCaFile,
            "PEM CA(s) rtsps cameras' certificates must chain to; unset: rtsps encrypts without checking who answers.", SampleFile);

        yield return Container(M, "case_types", List, "Case types: the built-in ones overridden by id, or new ones.");
        var caseTypes = new KeysOf<IReadOnlyList<CaseType>>(M, CaseType.Defaults, c => c.CaseTypes);
        Func<IReadOnlyList<CaseType>, string> all = l => string.Join(";", l);
        yield return caseTypes.Key("case_types[].id", Text, all, "The type's id (lower case, digits, _); listed at most once.", "street_stall", required: true);
        yield return caseTypes.Key("case_types[].code", Text, all, "The city's case code; required for a new type.", "\"9999\"", hasDefault: false);
        yield return caseTypes.Key("case_types[].name_zh", Text, all, "Chinese name as dispatch shows it; required for a new type.", "样例", hasDefault: false);
        yield return caseTypes.Key("case_types[].name_en", Text, all, "English name.", "Sample", hasDefault: false);
        yield return caseTypes.Key("case_types[].major_class", Text, all, "Major class (大类).", "样例类", hasDefault: false);

        var top = new KeysOf<CitySightConfig>(M, null!, c => c);
        yield return top.Key("cameras", ConfigKeyKind.Path, c => System.IO.Path.GetFileName(c.CamerasDir), "Folder of camera group files.", "elsewhere", hasDefault: false)
            with { Default = () => ConfigLoader.DefaultCamerasFolder };

        foreach (var key in DeliveryKeys()) yield return key;
        foreach (var key in ConsoleKeys()) yield return key;
        foreach (var key in StoreKeys()) yield return key;
        foreach (var key in ClusterKeys()) yield return key;
    }
}
