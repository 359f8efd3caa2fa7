using CitySight.Cases;
using CitySight.Cases.Sqlite;
using CitySight.Delivery.Mqtt;
using CitySight.Delivery.Push;
using CitySight.Delivery.Security;
using CitySight.Domain;
using CitySight.Inference;
using CitySight.Inference.StaticObjects;
using CitySight.Ingest;
using CitySight.Rules;

namespace CitySight.Configuration;

/// <summary>
/// The whole validated configuration: configs/citysight.yaml plus every camera group file under its cameras folder.
/// Relative paths in the YAML are resolved against the folder of the file that holds them; here they are absolute.
/// Each section is the options record of the stage that reads it (their initialisers are the defaults, written once);
/// the host hands them to the stages as they are.
/// </summary>
public sealed record CitySightConfig
{
    /// <summary>Absolute path of the citysight.yaml this was read from.</summary>
    public required string SourceFile { get; init; }
    public ServiceSettings Service { get; init; } = new();
    public ModelSettings Models { get; init; } = new();
    /// <summary>rules: a loaded config always sets <see cref="RuleOptions.CaseTypes"/> (built-in per-type rules apply).</summary>
    public RuleOptions Rules { get; init; } = new() { CaseTypes = new Dictionary<string, CaseTypeRuleOverrides>() };
    public SiteDedupOptions Dedup { get; init; } = new();
    public IngestOptions Ingest { get; init; } = new();
    /// <summary>Optional delivery channels beside the gRPC case feed (delivery.mqtt).</summary>
    public DeliverySettings Delivery { get; init; } = new();
    /// <summary>console: the command-centre console's map base.</summary>
    public ConsoleSettings Console { get; init; } = new();
    public IReadOnlyList<CaseType> CaseTypes { get; init; } = CaseType.Defaults;
    public IReadOnlyList<CameraGroup> Groups { get; init; } = [];
    /// <summary>console: how often each camera's latest picture is taken for the console.</summary>
    public PictureOptions Pictures { get; init; } = new();
    /// <summary>store: SQLite on this node (the default) or a PostgreSQL server shared by a cluster.</summary>
    public StoreSettings Store { get; init; } = new();
    /// <summary>cluster: this node's id and camera leases among the nodes sharing a PostgreSQL store.</summary>
    public ClusterSettings Cluster { get; init; } = new();

    public IEnumerable<Camera> Cameras => Groups.SelectMany(g => g.Cameras);

    /// <summary>Absolute folder the camera group files were read from (it may not exist: then there are no cameras).</summary>
    public string CamerasDir { get; init; } = "";

    /// <summary>The configured case type with this id (codes and names as the city set them), or null.</summary>
    public CaseType? FindCaseType(string id) => CaseTypes.FirstOrDefault(t => t.Id == id);

    /// <summary>The group a camera belongs to (for routing fields: district, street, grid, responsible unit), or null.</summary>
    public CameraGroup? GroupOf(Camera camera) => Groups.FirstOrDefault(g => g.Id == camera.GroupId);
}

public sealed record ServiceSettings
{
    /// <summary>
    /// Address both ports listen on. This machine only by default: another address needs consumer authentication
    /// (delivery.grpc) or delivery.grpc.allow_unauthenticated, checked when the host is built.
    /// </summary>
    public string BindAddress { get; init; } = "127.0.0.1";
    /// <summary>gRPC (HTTP/2, plaintext) port for CaseFeed.</summary>
    public int GrpcPort { get; init; } = 50051;
    /// <summary>HTTP/1 port for /metrics and /healthz.</summary>
    public int HttpPort { get; init; } = 8080;
    /// <summary>Absolute folder for the SQLite store and evidence images.</summary>
    public string DataDir { get; init; } = Path.GetFullPath("data");
    /// <summary>Local time for zone schedules of camera groups that set no <c>timezone</c> of their own.</summary>
    public TimeZoneInfo TimeZone { get; init; } = TimeZones.Default;
    /// <summary>service.evidence_retention_days and service.evidence_max_gb, as the evidence retention job takes them.</summary>
    public EvidenceRetentionOptions EvidenceRetention { get; init; } = new();
    /// <summary>
    /// Free space (MiB) kept on the data folder's file system for the case database: below it pictures are not written and
    /// the case waits, so a filling disk stops evidence before the database itself fails. 0: no reserve.
    /// </summary>
    public int ReserveFreeMegabytes { get; init; } = (int)(SqliteCaseStore.DefaultMinFreeBytes / (1024 * 1024));
    /// <summary>Cases kept in memory, in order, while the store cannot be written; past it a new case is raised again at a later sighting.</summary>
    public int MaxWaitingCases { get; init; } = CaseRaiser.DefaultMaxWaitingCases;
}

public sealed record ModelSettings
{
    /// <summary>Absolute path of models/manifest.yaml.</summary>
    public string Manifest { get; init; } = Path.GetFullPath("models/manifest.yaml");
    /// <summary>Absolute folders searched, in order, for the model file named in the manifest.</summary>
    public IReadOnlyList<string> SearchPaths { get; init; } = [];
    /// <summary>
    /// The models run at once (models.run, or the models.detector shorthand for one model on the CPU). Each camera's
    /// frames go to every model that can raise one of the case types the camera asks for.
    /// </summary>
    public IReadOnlyList<ModelRun> Run { get; init; } = [new() { Model = "yolov8n-coco-int8" }];
    /// <summary>models.static_objects: the model-free static-object pass, which runs beside the models.</summary>
    public StaticObjectOptions StaticObjects { get; init; } = new();
}

/// <summary>The delivery section: channels that push cases out, each optional.</summary>
public sealed record DeliverySettings
{
    /// <summary>delivery.mqtt; null when not configured (no MQTT publisher runs).</summary>
    public MqttOptions? Mqtt { get; init; }
    /// <summary>delivery.grpc: TLS and consumer authentication of the gRPC endpoint (plain h2c, open, when not set).</summary>
    public GrpcEndpointOptions Grpc { get; init; } = new();
    /// <summary>delivery.push; null when not configured (dispatch pulls with CaseFeed.Subscribe).</summary>
    public DispatchPushOptions? Push { get; init; }
}
