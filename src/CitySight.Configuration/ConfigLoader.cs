using CitySight.Domain;

namespace CitySight.Configuration;

/// <summary>
/// Reads configs/citysight.yaml and every camera group file in its cameras folder, validating all of it.
/// Every error in every file is collected (a broken camera file does not hide errors in the others); the config is
/// returned only when there are none. See configs/README.md for the fields.
/// </summary>
public static class ConfigLoader
{
    public const string DefaultCamerasFolder = "cameras";

    /// <summary>Loads and validates; never throws for a bad config (I/O and YAML problems become errors too).</summary>
    public static ConfigLoadResult Load(string citysightYamlPath) => Load(citysightYamlPath, pending: null);

    /// <summary>
    /// As <see cref="Load(string)"/>, with camera group files read from <paramref name="pending"/> (absolute path → text)
    /// instead of the disk where it has them: a file about to be written is validated with everything else first.
    /// </summary>
    public static ConfigLoadResult Load(string citysightYamlPath, IReadOnlyDictionary<string, string>? pending)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(citysightYamlPath);
        var errors = new List<ConfigError>();
        var main = new YamlSource(citysightYamlPath, Path.GetFullPath(citysightYamlPath), ConfigFile.Main, errors);
        // Without the main file we do not know where the cameras are (or which case types exist): stop here.
        if (!main.TryLoad(out var root)) return new ConfigLoadResult(null, errors);

        var top = Section.Open(main, root, "", YamlSource.FileStart, "");
        if (top is null) return new ConfigLoadResult(null, errors);

        var service = ServiceSection.Read(top);
        var models = ModelsSection.Read(top);
        var caseTypes = CaseTypesSection.Read(top);
        var rules = RulesSection.Read(top, caseTypes);
        var dedup = DedupSection.Read(top);
        var ingest = IngestSection.Read(top);
        var delivery = DeliverySection.Read(top);
        var pictures = ConsoleSection.ReadPictures(top);
        var console = ConsoleSection.Read(top);
        var store = StoreSection.Read(top);
        var cluster = ClusterSection.Read(top);
        // The host refuses an open port at start; validating says so first, at the key.
        if (delivery.Grpc.ExposureRefusal(System.Net.IPAddress.Parse(service.BindAddress)) is { } refusal
            && top.Value("service") is YamlDotNet.RepresentationModel.YamlMappingNode svc
            && svc.Children.Keys.FirstOrDefault(k => k is YamlDotNet.RepresentationModel.YamlScalarNode { Value: "bind_address" }) is { } at)
            main.Error(at.Start, "service.bind_address", refusal);

        var camerasValue = top.Text("cameras") ?? DefaultCamerasFolder;
        var camerasDir = main.Resolve(camerasValue);
        // Camera files are named in errors relative to the path the caller gave, e.g. configs/cameras/demo.yaml.
        var camerasDisplay = Path.Combine(Path.GetDirectoryName(citysightYamlPath) ?? "", camerasValue);
        var groups = new List<CameraGroup>();
        if (File.Exists(camerasDir))
        {
            main.Error(top.KeyMark("cameras"), "cameras", $"must be a folder of camera group files, but {camerasValue} is a file");
        }
        else if (Directory.Exists(camerasDir))
        {
            var files = Directory.EnumerateFiles(camerasDir)
                .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal)
                .ToList();
            var seen = new CameraFileReader.Seen();
            foreach (var file in files)
            {
                var src = new YamlSource(Path.Combine(camerasDisplay, Path.GetFileName(file)), file, ConfigFile.CameraGroup, errors,
                    pending?.GetValueOrDefault(Path.GetFullPath(file)));
                if (CameraFileReader.ReadGroupFile(src, caseTypes, service.TimeZone, seen) is { } g) groups.Add(g);
            }
        }
        // A missing cameras folder is fine: a service with no cameras yet still starts (and serves its API).

        var config = new CitySightConfig
        {
            SourceFile = main.FullPath,
            Service = service,
            Models = models,
            Rules = rules,
            Dedup = dedup,
            Ingest = ingest,
            Delivery = delivery,
            Pictures = pictures,
            Console = console,
            Store = store,
            Cluster = cluster,
            CaseTypes = caseTypes,
            Groups = groups,
            CamerasDir = camerasDir,
        };
        return new ConfigLoadResult(config, InDocumentOrder(errors));
    }

    /// <summary>
    /// Files stay in the order they were read; within a file, errors are sorted by position (a "required" error is
    /// found after the keys around it are read), so the list reads top to bottom like the file.
    /// </summary>
    private static List<ConfigError> InDocumentOrder(List<ConfigError> errors)
    {
        var fileOrder = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in errors) fileOrder.TryAdd(e.File, fileOrder.Count);
        return errors.OrderBy(e => fileOrder[e.File]).ThenBy(e => e.Line).ThenBy(e => e.Column).ToList();
    }

    /// <exception cref="ConfigException">Any error; its message lists them all.</exception>
    public static CitySightConfig LoadOrThrow(string citysightYamlPath)
    {
        var result = Load(citysightYamlPath);
        return result.Config ?? throw new ConfigException(result.Errors);
    }
}
