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
    public IngestSettings Ingest { get; init; } = new();
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
    /// <summary>Detections below this confidence are ignored.</summary>
    public float MinConfidence { get; init; } = 0.35f;
    /// <summary>A case is raised after the object is seen on this many consecutive samples.</summary>
    public int ConfirmSamples { get; init; } = 3;
    /// <summary>Boxes overlapping at least this much (IoU) are the same object / the same case.</summary>
    public float SameObjectIoU { get; init; } = 0.3f;
    /// <summary>A hit within this long after a case's last sighting, same camera, type and place, updates that case.</summary>
    public TimeSpan DedupWindow { get; init; } = TimeSpan.FromMinutes(10);
}
