using CitySight.Domain;

namespace CitySight.Configuration;

/// <summary>
/// The whole validated configuration: configs/citysight.yaml plus every camera group file under its cameras folder.
/// Relative paths in the YAML are resolved against the folder of the file that holds them; here they are absolute.
/// </summary>
public sealed record CitySightConfig
{
    /// <summary>Absolute path of the citysight.yaml this was read from.</summary>
    public required string SourceFile { get; init; }
    public ServiceSettings Service { get; init; } = new();
    public ModelSettings Models { get; init; } = new();
    public RuleSettings Rules { get; init; } = new();
    public DedupSettings Dedup { get; init; } = new();
    public IngestSettings Ingest { get; init; } = new();
    /// <summary>Optional delivery channels beside the gRPC case feed (delivery.mqtt).</summary>
    public DeliverySettings Delivery { get; init; } = new();
    public IReadOnlyList<CaseType> CaseTypes { get; init; } = CaseType.Defaults;
    public IReadOnlyList<CameraGroup> Groups { get; init; } = [];

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
    /// <summary>gRPC (HTTP/2, plaintext) port for CaseFeed.</summary>
    public int GrpcPort { get; init; } = 50051;
    /// <summary>HTTP/1 port for /metrics and /healthz.</summary>
    public int HttpPort { get; init; } = 8080;
    /// <summary>Absolute folder for the SQLite store and evidence images.</summary>
    public string DataDir { get; init; } = Path.GetFullPath("data");
    /// <summary>Local time for zone schedules of camera groups that set no <c>timezone</c> of their own.</summary>
    public TimeZoneInfo TimeZone { get; init; } = TimeZones.Default;
    /// <summary>Pictures of cases closed or rejected longer ago than this are deleted (the case rows stay).</summary>
    public int EvidenceRetentionDays { get; init; } = 90;
    /// <summary>Above this, the evidence folder sheds the oldest closed cases' pictures first; never an open case's proof.</summary>
    public double EvidenceMaxGigabytes { get; init; } = 50;
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
    public IReadOnlyList<DetectorSettings> Run { get; init; } = [new() { Model = "yolov8n-coco-int8" }];
}

/// <summary>One model to run and how: one entry of models.run.</summary>
public sealed record DetectorSettings
{
    /// <summary>Name of the entry in the model manifest.</summary>
    public required string Model { get; init; }
    public ExecutionProvider Provider { get; init; } = ExecutionProvider.Cpu;
    /// <summary>GPU index for cuda/tensorrt; for openvino 0 = its CPU device, N = GPU.(N-1).</summary>
    public int DeviceId { get; init; }
    /// <summary>Intra-op threads for ONNX Runtime; 0 lets it choose.</summary>
    public int Threads { get; init; }
    /// <summary>Most frames (from any cameras) in one run; 1 on a small CPU, where batching brings nothing.</summary>
    public int MaxBatch { get; init; } = 1;
    /// <summary>How long a batch's first frame may wait for more; zero adds no waiting.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.Zero;
    /// <summary>Sessions of this model running side by side.</summary>
    public int Instances { get; init; } = 1;
}

public sealed record IngestSettings
{
    /// <summary>Concurrent continuous streams this machine holds; continuous cameras beyond it are patrolled instead.</summary>
    public int MaxStreams { get; init; } = 256;
    /// <summary>Patrol visits (connect, one frame, disconnect) in flight at once.</summary>
    public int PatrolConcurrency { get; init; } = 8;
    /// <summary>A patrol visit that yields no frame within this is a failure.</summary>
    public TimeSpan SnapshotTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Frames larger than this are scaled down in the decoder (aspect kept); 0 = no limit.</summary>
    public int MaxFrameWidth { get; init; }
    public int MaxFrameHeight { get; init; }
}

public sealed record RuleSettings
{
    /// <summary>Detections below this confidence are ignored (per type: <see cref="CaseTypeRules.MinConfidence"/> unless overridden).</summary>
    public float MinConfidence { get; init; } = 0.35f;
    /// <summary>A case is raised after the object is seen on this many consecutive samples.</summary>
    public int ConfirmSamples { get; init; } = 3;
    /// <summary>Boxes overlapping at least this much (IoU) are the same object / the same case.</summary>
    public float SameObjectIoU { get; init; } = 0.3f;
    /// <summary>A hit within this long after a case's last sighting, same camera, type and place, updates that case.</summary>
    public TimeSpan DedupWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>What rules.case_types in the YAML set, by case type id; anything not set there comes from <see cref="BuiltIn"/>.</summary>
    public IReadOnlyDictionary<string, CaseTypeRuleOverrides> CaseTypes { get; init; } = Empty;

    private static readonly IReadOnlyDictionary<string, CaseTypeRuleOverrides> Empty = new Dictionary<string, CaseTypeRuleOverrides>();

    /// <summary>The rules for one case type: its built-in defaults, with <see cref="MinConfidence"/> as the confidence, overridden by rules.case_types.</summary>
    public CaseTypeRules ForType(string caseType)
    {
        var r = BuiltIn(caseType) with { MinConfidence = MinConfidence };
        return CaseTypes.TryGetValue(caseType, out var o) ? o.ApplyTo(r) : r;
    }

    /// <summary>
    /// Built-in defaults per case type (min_confidence here is the global default, <see cref="MinConfidence"/>):
    /// illegal_parking: stationary 10 minutes (districts' ten-minute grace, 十分钟违停免罚);
    /// street_stall: present 5 minutes, moving about allowed; garbage: stationary 10 minutes;
    /// billboard: a static object, no dwell, reported once; any other type: no dwell beyond confirm_samples.
    /// </summary>
    public static CaseTypeRules BuiltIn(string caseType) => caseType switch
    {
        "illegal_parking" => new() { MinDwell = TimeSpan.FromMinutes(10), RequireStationary = true },
        "street_stall" => new() { MinDwell = TimeSpan.FromMinutes(5), RequireStationary = false },
        "garbage" => new() { MinDwell = TimeSpan.FromMinutes(10), RequireStationary = true },
        "billboard" => new() { MinDwell = TimeSpan.Zero, RequireStationary = true, ReportOnce = true },
        _ => new(),
    };

    public bool Equals(RuleSettings? other) =>
        other is not null
        && MinConfidence == other.MinConfidence
        && ConfirmSamples == other.ConfirmSamples
        && SameObjectIoU == other.SameObjectIoU
        && DedupWindow == other.DedupWindow
        && CaseTypes.Count == other.CaseTypes.Count
        && CaseTypes.All(kv => other.CaseTypes.TryGetValue(kv.Key, out var o) && kv.Value == o);

    public override int GetHashCode() => HashCode.Combine(MinConfidence, ConfirmSamples, SameObjectIoU, DedupWindow, CaseTypes.Count);
}


/// <summary>What rules.case_types.TYPE sets; null = the default (<see cref="RuleSettings.ForType"/>).</summary>
public sealed record CaseTypeRuleOverrides
{
    public float? MinConfidence { get; init; }
    public TimeSpan? MinDwell { get; init; }
    public bool? RequireStationary { get; init; }
    public double? StationaryRadius { get; init; }
    public bool? ReportOnce { get; init; }

    public CaseTypeRules ApplyTo(CaseTypeRules r) => new()
    {
        MinConfidence = MinConfidence ?? r.MinConfidence,
        MinDwell = MinDwell ?? r.MinDwell,
        RequireStationary = RequireStationary ?? r.RequireStationary,
        StationaryRadius = StationaryRadius ?? r.StationaryRadius,
        ReportOnce = ReportOnce ?? r.ReportOnce,
    };
}

/// <summary>One case per real event across cameras: hits compared by their place on the ground.</summary>
public sealed record DedupSettings
{
    /// <summary>
    /// Hits of the same type this close on the ground (metres, WGS84) are the same place. A hit's place comes from the
    /// camera's ground mapping, or is the camera's own position when it has none.
    /// </summary>
    public double SamePlaceRadiusMetres { get; init; } = 15;
    /// <summary>A hit at the same place within this long after the case there was last seen is that case, whichever camera saw it.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(30);
    /// <summary>After a case is closed or rejected, how long before the same place may raise a case of that type again.</summary>
    public TimeSpan Cooldown { get; init; } = TimeSpan.FromMinutes(30);
    /// <summary>After dispatch rejects a case (false alarm), how long the same type at that place raises nothing.</summary>
    public TimeSpan RejectCooldown { get; init; } = TimeSpan.FromHours(24);
}

/// <summary>The delivery section: channels that push cases out, each optional.</summary>
public sealed record DeliverySettings
{
    /// <summary>delivery.mqtt; null when not configured (no MQTT publisher runs).</summary>
    public MqttSettings? Mqtt { get; init; }
    /// <summary>delivery.grpc: TLS and consumer authentication of the gRPC endpoint (plain h2c, open, when not set).</summary>
    public GrpcSettings Grpc { get; init; } = new();
    /// <summary>delivery.push; null when not configured (dispatch pulls with CaseFeed.Subscribe).</summary>
    public PushSettings? Push { get; init; }
}

/// <summary>delivery.grpc. Paths are absolute and existed when loaded; secrets are named by environment variable only.</summary>
public sealed record GrpcSettings
{
    /// <summary>Server certificate and key (PEM): the gRPC port then speaks TLS only.</summary>
    public string? TlsCert { get; init; }
    public string? TlsKey { get; init; }
    /// <summary>When set, clients must present a certificate signed by this CA (its subject CN is the consumer).</summary>
    public string? ClientCa { get; init; }
    /// <summary>Environment variable with "consumer=key,consumer=key": every call then needs a valid x-api-key header.</summary>
    public string? ApiKeysEnv { get; init; }
    /// <summary>With authentication on, only these consumers may call the admin API (CameraAdmin); none listed: nobody.</summary>
    public IReadOnlyList<string> AdminConsumers { get; init; } = [];
}

/// <summary>delivery.push: CitySight calls the district's DispatchIntake and streams cases to it.</summary>
public sealed record PushSettings
{
    public required Uri Endpoint { get; init; }
    /// <summary>The outbox cursor's name: cases stay there until dispatch's receipt.</summary>
    public string Consumer { get; init; } = "dispatch-push";
    public string? ApiKeyEnv { get; init; }
    public string? CaFile { get; init; }
    public string? ClientCert { get; init; }
    public string? ClientKey { get; init; }
    public bool IncludeEvidence { get; init; } = true;
    /// <summary>The longest wait between two calls after failures (exponential with jitter from <see cref="MinBackoff"/>).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>The first wait after a failure.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>Events sent and not yet receipted, at most.</summary>
    public int Window { get; init; } = 64;
    /// <summary>An event without a receipt this long ends the call; the next one sends it again.</summary>
    public TimeSpan ReceiptTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>How long a connection (TCP and TLS) may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The defaults, for readers that fill in what the YAML leaves out.</summary>
    public static readonly PushSettings Defaults = new() { Endpoint = new Uri("http://localhost") };
}

/// <summary>
/// delivery.mqtt: the broker cases and camera states are published to. Holds the NAME of the environment variable with
/// the password (<see cref="PasswordEnv"/>), never the password.
/// </summary>
public sealed record MqttSettings
{
    public const string DefaultTopicPrefix = "citysight/v1";
    /// <summary>The broker port when TLS is on and no port is set (MQTT over TLS).</summary>
    public const int DefaultTlsPort = 8883;

    public required string Host { get; init; }
    /// <summary>Without TLS, unless set; with TLS the default is <see cref="DefaultTlsPort"/>.</summary>
    public int Port { get; init; } = 1883;
    public string ClientId { get; init; } = DefaultClientId();
    public string TopicPrefix { get; init; } = DefaultTopicPrefix;
    public string? Username { get; init; }
    /// <summary>Environment variable holding the password (checked to be set when the config is loaded).</summary>
    public string? PasswordEnv { get; init; }
    public MqttTlsSettings Tls { get; init; } = new();
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(30);

    public static string DefaultClientId() => "citysight-" + Environment.MachineName.ToLowerInvariant();
}

/// <summary>delivery.mqtt.tls; paths are absolute (resolved against the config file) and existed when loaded.</summary>
public sealed record MqttTlsSettings
{
    public bool Enabled { get; init; }
    public string? CaFile { get; init; }
    public string? ClientCert { get; init; }
    public string? ClientKey { get; init; }
    public bool AllowUntrusted { get; init; }
}
