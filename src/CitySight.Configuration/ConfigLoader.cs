using System.Text.RegularExpressions;
using CitySight.Domain;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CitySight.Configuration;

/// <summary>
/// Reads configs/citysight.yaml and every camera group file in its cameras folder, validating all of it.
/// Every error in every file is collected (a broken camera file does not hide errors in the others); the config is
/// returned only when there are none. See configs/README.md for the fields.
/// </summary>
public static partial class ConfigLoader
{
    private static readonly string[] TopKeys = ["service", "models", "rules", "dedup", "ingest", "case_types", "cameras", "delivery"];
    private static readonly string[] DeliveryKeys = ["mqtt", "grpc", "push"];
    private static readonly string[] GrpcKeys = ["tls", "api_keys_env", "admin_consumers"];
    private static readonly string[] GrpcTlsKeys = ["cert", "key", "client_ca"];
    private static readonly string[] PushKeys = ["endpoint", "consumer", "api_key_env", "ca_file", "client_cert", "client_key", "include_evidence", "max_backoff",
        "min_backoff", "window", "receipt_timeout", "connect_timeout"];
    private static readonly string[] MqttKeys = ["host", "port", "client_id", "topic_prefix", "username", "password_env", "tls", "keep_alive"];
    private static readonly string[] MqttTlsKeys = ["enabled", "ca_file", "client_cert", "client_key", "allow_untrusted"];
    private static readonly string[] ServiceKeys = ["grpc_port", "http_port", "data_dir", "timezone", "evidence_retention_days", "evidence_max_gb"];
    private static readonly string[] ModelKeys = ["manifest", "detector", "search_paths", "threads", "run"];
    private static readonly string[] RunKeys = ["model", "provider", "device_id", "threads", "max_batch", "max_wait", "instances"];
    private static readonly string[] IngestKeys = ["max_streams", "patrol_concurrency", "snapshot_timeout", "max_frame_width", "max_frame_height"];
    private static readonly string[] RuleKeys = ["min_confidence", "confirm_samples", "same_object_iou", "dedup_window", "case_types"];
    private static readonly string[] CaseTypeRuleKeys = ["min_confidence", "min_dwell", "stationary", "stationary_radius", "report_once"];
    private static readonly string[] DedupKeys = ["same_place_radius_m", "window", "cooldown", "reject_cooldown"];
    private static readonly string[] CaseTypeKeys = ["id", "code", "name_zh", "name_en", "major_class"];
    private static readonly string[] FileKeys = ["group", "cameras"];
    private static readonly string[] GroupKeys = ["id", "name", "district", "street", "grid", "responsible_unit", "timezone", "mode", "defaults"];
    private static readonly string[] DefaultKeys = ["sample_interval", "detectors", "real_time", "loop", "enabled", "decoder"];
    private static readonly string[] CameraKeys =
        ["id", "name", "url", "latitude", "longitude", "sample_interval", "detectors", "enabled", "real_time", "loop", "decoder", "zones", "ground", "starts_at"];
    private static readonly string[] ZoneKeys = ["name", "polygon", "case_types", "exclude", "schedule"];
    private static readonly string[] ScheduleKeys = ["days", "hours"];
    private static readonly string[] GroundKeys = ["image", "lat", "lon"];

    /// <summary>Camera and group ids end up in file names, metrics labels and dispatch records: keep them plain.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    /// <summary>Case type ids are what detectors and zones refer to; lower snake case like the built-in ones.</summary>
    [GeneratedRegex("^[a-z][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex CaseTypeIdPattern();

    public const string DefaultCamerasFolder = "cameras";

    /// <summary>Loads and validates; never throws for a bad config (I/O and YAML problems become errors too).</summary>
    public static ConfigLoadResult Load(string citysightYamlPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(citysightYamlPath);
        var errors = new List<ConfigError>();
        var main = new YamlSource(citysightYamlPath, Path.GetFullPath(citysightYamlPath), errors);
        // Without the main file we do not know where the cameras are (or which case types exist): stop here.
        if (!main.TryLoad(out var root)) return new ConfigLoadResult(null, errors);

        var top = Section.Open(main, root, "", YamlSource.FileStart, TopKeys);
        if (top is null) return new ConfigLoadResult(null, errors);

        var service = ReadService(top);
        var models = ReadModels(top);
        var caseTypes = ReadCaseTypes(top);
        var rules = ReadRules(top, caseTypes);
        var dedup = ReadDedup(top);
        var ingest = ReadIngest(top);
        var delivery = ReadDelivery(top);

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
            var seen = new Seen();
            foreach (var file in files)
            {
                var src = new YamlSource(Path.Combine(camerasDisplay, Path.GetFileName(file)), file, errors);
                if (ReadGroupFile(src, caseTypes, service.TimeZone, seen) is { } g) groups.Add(g);
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

    private static ServiceSettings ReadService(Section top)
    {
        var s = new ServiceSettings();
        if (top.Child("service", ServiceKeys) is not { } sec) return s;
        var grpc = sec.Int("grpc_port", 1, 65535);
        var http = sec.Int("http_port", 1, 65535);
        s = s with
        {
            GrpcPort = grpc ?? s.GrpcPort,
            HttpPort = http ?? s.HttpPort,
            DataDir = sec.Text("data_dir") is { Length: > 0 } d ? sec.Src.Resolve(d) : s.DataDir,
            TimeZone = ReadTimeZone(sec, "timezone") ?? s.TimeZone,
            EvidenceRetentionDays = sec.Int("evidence_retention_days", 1, 36500) ?? s.EvidenceRetentionDays,
            EvidenceMaxGigabytes = sec.Value("evidence_max_gb") is { } gb
                ? Scalars.Range(sec.Src, gb, sec.Field("evidence_max_gb"), 0, 1_000_000, minExclusive: true) ?? s.EvidenceMaxGigabytes
                : s.EvidenceMaxGigabytes,
        };
        if (s.GrpcPort == s.HttpPort && (grpc is not null || http is not null))
            sec.Src.Error(sec.KeyMark(http is not null ? "http_port" : "grpc_port"), sec.Field(http is not null ? "http_port" : "grpc_port"),
                $"gRPC and HTTP cannot share port {s.GrpcPort}");
        return s;
    }

    private static ModelSettings ReadModels(Section top)
    {
        var m = new ModelSettings();
        if (top.Child("models", ModelKeys) is not { } sec) return m;
        m = m with
        {
            Manifest = sec.Text("manifest") is { Length: > 0 } p ? sec.Src.Resolve(p) : m.Manifest,
            SearchPaths = sec.TextList("search_paths") is { } paths
                ? paths.Where(x => x.Value.Length > 0).Select(x => sec.Src.Resolve(x.Value)).ToList()
                : m.SearchPaths,
        };

        // detector/threads: the one-model-on-CPU shorthand, kept for existing configs.
        var detector = sec.Has("detector") ? sec.Text("detector", required: true) : null;
        var threads = sec.Int("threads", 0, 1024);
        if (!sec.Has("run"))
            return m with { Run = [new DetectorSettings { Model = detector ?? m.Run[0].Model, Threads = threads ?? 0 }] };

        foreach (var key in new[] { "detector", "threads" })
            if (sec.Has(key))
                sec.Src.Error(sec.KeyMark(key), sec.Field(key), "give either run (a list of models) or detector/threads, not both");

        if (sec.List("run") is not { } seq) return m;
        if (seq.Children.Count == 0)
        {
            sec.Src.Error(sec.KeyMark("run"), sec.Field("run"), "the list is empty: name at least one model to run");
            return m;
        }
        var run = new List<DetectorSettings>();
        var firstAt = new Dictionary<string, Mark>(StringComparer.Ordinal);
        var i = 0;
        foreach (var item in seq.Children)
        {
            var path = sec.Field($"run[{i++}]");
            if (Section.Open(sec.Src, item, path, item.Start, RunKeys) is not { } r) continue;
            if (r.Text("model", required: true) is not { } model) continue;
            if (firstAt.TryGetValue(model, out var first))
            {
                sec.Src.Error(r.Value("model")!.Start, r.Field("model"), $"model '{model}' is listed twice (first at line {first.Line})");
                continue;
            }
            firstAt[model] = r.Value("model")!.Start;
            run.Add(new DetectorSettings
            {
                Model = model,
                Provider = Choice<ExecutionProvider>(r, "provider") ?? ExecutionProvider.Cpu,
                DeviceId = r.Int("device_id", 0, 64) ?? 0,
                Threads = r.Int("threads", 0, 1024) ?? 0,
                MaxBatch = r.Int("max_batch", 1, 256) ?? 1,
                MaxWait = r.Duration("max_wait") ?? TimeSpan.Zero,
                Instances = r.Int("instances", 1, 64) ?? 1,
            });
        }
        return run.Count > 0 ? m with { Run = run } : m;
    }

    private static IngestSettings ReadIngest(Section top)
    {
        var i = new IngestSettings();
        if (top.Child("ingest", IngestKeys) is not { } sec) return i;
        return i with
        {
            MaxStreams = sec.Int("max_streams", 0, 100_000) ?? i.MaxStreams,
            PatrolConcurrency = sec.Int("patrol_concurrency", 1, 1024) ?? i.PatrolConcurrency,
            SnapshotTimeout = Positive(sec, "snapshot_timeout") ?? i.SnapshotTimeout,
            MaxFrameWidth = sec.Int("max_frame_width", 0, 16384) ?? i.MaxFrameWidth,
            MaxFrameHeight = sec.Int("max_frame_height", 0, 16384) ?? i.MaxFrameHeight,
        };
    }

    /// <summary>Environment variable names as a shell accepts them.</summary>
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvNamePattern();

    /// <summary>MQTT client ids and topic levels: printable, no wildcards, no NUL.</summary>
    [GeneratedRegex("^[A-Za-z0-9._-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex MqttClientIdPattern();

    private static DeliverySettings ReadDelivery(Section top)
    {
        var d = new DeliverySettings();
        if (top.Child("delivery", DeliveryKeys) is not { } sec) return d;
        d = d with { Grpc = ReadGrpc(sec), Push = ReadPush(sec) };
        if (!sec.Has("mqtt")) return d;
        if (sec.Child("mqtt", MqttKeys) is not { } m) return d;
        var src = m.Src;

        var host = m.Text("host", required: true);
        if (host is { Length: 0 }) src.Error(m.Value("host")!.Start, m.Field("host"), "must not be empty");

        var clientId = m.Text("client_id");
        if (clientId is not null && (clientId.Length is 0 or > 64 || !MqttClientIdPattern().IsMatch(clientId)))
            src.Error(m.Value("client_id")!.Start, m.Field("client_id"),
                $"'{YamlSource.Shorten(clientId)}' is not a usable client id: 1 to 64 of letters, digits, '.', '_', '-'");

        var prefix = m.Text("topic_prefix");
        if (prefix is not null && (prefix.Length == 0 || prefix.StartsWith('/') || prefix.EndsWith('/') ||
                                   prefix.IndexOfAny(['+', '#', '\0']) >= 0 || prefix.Contains("//", StringComparison.Ordinal)))
            src.Error(m.Value("topic_prefix")!.Start, m.Field("topic_prefix"),
                $"'{YamlSource.Shorten(prefix)}' is not a topic prefix: levels separated by '/', no leading or trailing '/', no '+' or '#'");

        var username = m.Text("username");
        var passwordEnv = m.Text("password_env");
        if (passwordEnv is not null)
        {
            if (!EnvNamePattern().IsMatch(passwordEnv))
                // Someone may have pasted the password itself here: never echo it back.
                src.Error(m.Value("password_env")!.Start, m.Field("password_env"),
                    "must be the NAME of an environment variable holding the password (letters, digits, '_'), not the password");
            else if (Environment.GetEnvironmentVariable(passwordEnv) is null)
                src.Error(m.Value("password_env")!.Start, m.Field("password_env"), $"environment variable {passwordEnv} is not set");
            else if (username is null)
                src.Error(m.KeyMark("password_env"), m.Field("username"), "is required when password_env is set");
        }

        var tls = new MqttTlsSettings();
        if (m.Has("tls") && m.Child("tls", MqttTlsKeys) is { } t)
        {
            tls = new MqttTlsSettings
            {
                Enabled = t.Bool("enabled") ?? true,
                CaFile = ExistingFile(t, "ca_file"),
                ClientCert = ExistingFile(t, "client_cert"),
                ClientKey = ExistingFile(t, "client_key"),
                AllowUntrusted = t.Bool("allow_untrusted") ?? false,
            };
            if (t.Has("client_cert") != t.Has("client_key"))
                src.Error(t.KeyMark(t.Has("client_cert") ? "client_cert" : "client_key"), t.Field(t.Has("client_cert") ? "client_key" : "client_cert"),
                    "client_cert and client_key go together: give both or neither");
        }

        var keepAlive = Positive(m, "keep_alive");
        if (keepAlive is { } ka && ka > TimeSpan.FromSeconds(65535))
            src.Error(m.Value("keep_alive")!.Start, m.Field("keep_alive"), "must be at most 65535s (18h12m15s)");

        var port = m.Int("port", 1, 65535);
        if (host is not { Length: > 0 }) return d;
        return d with
        {
            Mqtt = new MqttSettings
            {
                Host = host,
                Port = port ?? (tls.Enabled ? 8883 : 1883),
                ClientId = clientId ?? MqttSettings.DefaultClientId(),
                TopicPrefix = prefix ?? MqttSettings.DefaultTopicPrefix,
                Username = username,
                PasswordEnv = passwordEnv,
                Tls = tls,
                KeepAlive = keepAlive ?? TimeSpan.FromSeconds(30),
            },
        };
    }

    /// <summary>delivery.grpc: TLS for the gRPC endpoint and consumer authentication.</summary>
    private static GrpcSettings ReadGrpc(Section delivery)
    {
        var g = new GrpcSettings();
        if (!delivery.Has("grpc") || delivery.Child("grpc", GrpcKeys) is not { } sec) return g;
        if (sec.Has("tls") && sec.Child("tls", GrpcTlsKeys) is { } t)
        {
            g = g with { TlsCert = ExistingFile(t, "cert"), TlsKey = ExistingFile(t, "key"), ClientCa = ExistingFile(t, "client_ca") };
            if (!t.Has("cert")) t.Required("cert", "the server certificate (PEM)");
            if (!t.Has("key")) t.Required("key", "the server certificate's private key (PEM)");
        }
        var admins = sec.TextList("admin_consumers")?.Select(i => i.Value.Trim()).Where(v => v.Length > 0).Distinct().ToList() ?? [];
        return g with
        {
            ApiKeysEnv = EnvName(sec, "api_keys_env", "consumer API keys as consumer=key pairs separated by commas"),
            AdminConsumers = admins,
        };
    }

    /// <summary>delivery.push: CitySight as the client of the district's DispatchIntake endpoint.</summary>
    private static PushSettings? ReadPush(Section delivery)
    {
        if (!delivery.Has("push") || delivery.Child("push", PushKeys) is not { } sec) return null;
        var src = sec.Src;
        Uri? endpoint = null;
        if (sec.Text("endpoint", required: true) is { } raw)
        {
            if (!Uri.TryCreate(raw.Trim(), UriKind.Absolute, out endpoint) || endpoint.Scheme is not ("http" or "https") || endpoint.Host.Length == 0)
            {
                src.Error(sec.Value("endpoint")!.Start, sec.Field("endpoint"),
                    $"'{Secrets.RedactUrl(raw)}' is not an http:// or https:// address of the dispatch intake (e.g. https://dispatch.example:8443)");
                endpoint = null;
            }
            else if (endpoint.UserInfo.Length > 0)
            {
                src.Error(sec.Value("endpoint")!.Start, sec.Field("endpoint"), "must not carry credentials; use api_key_env or a client certificate");
                endpoint = null;
            }
        }
        var consumer = sec.Text("consumer") ?? "dispatch-push";
        if (consumer.Length is 0 or > 128 || consumer.Any(char.IsControl))
            src.Error(sec.Value("consumer")!.Start, sec.Field("consumer"), "a consumer name is 1 to 128 characters");
        if (sec.Has("client_cert") != sec.Has("client_key"))
            src.Error(sec.KeyMark(sec.Has("client_cert") ? "client_cert" : "client_key"), sec.Field(sec.Has("client_cert") ? "client_key" : "client_cert"),
                "client_cert and client_key go together: give both or neither");
        var settings = new PushSettings
        {
            Endpoint = endpoint ?? new Uri("http://invalid"),
            Consumer = consumer,
            ApiKeyEnv = EnvName(sec, "api_key_env", "the API key dispatch gave CitySight"),
            CaFile = ExistingFile(sec, "ca_file"),
            ClientCert = ExistingFile(sec, "client_cert"),
            ClientKey = ExistingFile(sec, "client_key"),
            IncludeEvidence = sec.Bool("include_evidence") ?? true,
            MaxBackoff = Positive(sec, "max_backoff") ?? PushSettings.Defaults.MaxBackoff,
            MinBackoff = Positive(sec, "min_backoff") ?? PushSettings.Defaults.MinBackoff,
            Window = sec.Int("window", 1, 10_000) ?? PushSettings.Defaults.Window,
            ReceiptTimeout = Positive(sec, "receipt_timeout") ?? PushSettings.Defaults.ReceiptTimeout,
            ConnectTimeout = Positive(sec, "connect_timeout") ?? PushSettings.Defaults.ConnectTimeout,
        };
        if (settings.MinBackoff > settings.MaxBackoff)
            src.Error(sec.Value(sec.Has("min_backoff") ? "min_backoff" : "max_backoff")!.Start, sec.Field(sec.Has("min_backoff") ? "min_backoff" : "max_backoff"),
                $"min_backoff ({settings.MinBackoff.TotalSeconds:0.###}s) must not exceed max_backoff ({settings.MaxBackoff.TotalSeconds:0.###}s)");
        return endpoint is null ? null : settings;
    }

    /// <summary>The NAME of an environment variable holding a secret, checked to be set; never its value.</summary>
    private static string? EnvName(Section sec, string key, string holds)
    {
        if (sec.Text(key) is not { } name) return null;
        if (!EnvNamePattern().IsMatch(name))
            // Someone may have pasted the secret itself here: never echo it back.
            sec.Src.Error(sec.Value(key)!.Start, sec.Field(key), $"must be the NAME of an environment variable holding {holds} (letters, digits, '_'), not the secret");
        else if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)))
            sec.Src.Error(sec.Value(key)!.Start, sec.Field(key), $"environment variable {name} is not set (or empty)");
        else return name;
        return null;
    }

    /// <summary>A file path resolved against the config file's folder, which must exist (the error is recorded otherwise).</summary>
    private static string? ExistingFile(Section sec, string key)
    {
        if (sec.Text(key) is not { Length: > 0 } p) return null;
        var full = sec.Src.Resolve(p);
        if (!File.Exists(full))
        {
            sec.Src.Error(sec.Value(key)!.Start, sec.Field(key), $"file not found: {p} (resolved to {full})");
            return null;
        }
        return full;
    }

    /// <summary>One of a fixed set of words (case-insensitive), or null when absent or invalid (the error is recorded).</summary>
    private static T? Choice<T>(Section sec, string key) where T : struct, Enum
    {
        if (sec.Text(key) is not { } text) return null;
        if (Enum.TryParse<T>(text.Trim(), ignoreCase: true, out var value) && !int.TryParse(text, out _)) return value;
        var allowed = string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()));
        sec.Src.Error(sec.Value(key)!.Start, sec.Field(key), $"'{YamlSource.Shorten(text)}' is not one of: {allowed}");
        return null;
    }

    private static RuleSettings ReadRules(Section top, IReadOnlyList<CaseType> caseTypes)
    {
        var r = new RuleSettings();
        if (top.Child("rules", RuleKeys) is not { } sec) return r;
        var src = sec.Src;
        return r with
        {
            MinConfidence = sec.Value("min_confidence") is { } mc
                ? (float?)Scalars.Range(src, mc, sec.Field("min_confidence"), 0, 1) ?? r.MinConfidence
                : r.MinConfidence,
            ConfirmSamples = sec.Int("confirm_samples", 1, int.MaxValue) ?? r.ConfirmSamples,
            SameObjectIoU = sec.Value("same_object_iou") is { } iou
                ? (float?)Scalars.Range(src, iou, sec.Field("same_object_iou"), 0, 1, minExclusive: true) ?? r.SameObjectIoU
                : r.SameObjectIoU,
            // Zero is allowed: it turns deduplication off (every confirmed sighting becomes its own case).
            DedupWindow = sec.Duration("dedup_window") ?? r.DedupWindow,
            CaseTypes = ReadCaseTypeRules(sec, caseTypes) ?? r.CaseTypes,
        };
    }

    /// <summary>rules.case_types: a mapping from a configured case type id to what it overrides of that type's defaults.</summary>
    private static Dictionary<string, CaseTypeRuleOverrides>? ReadCaseTypeRules(Section rules, IReadOnlyList<CaseType> caseTypes)
    {
        if (rules.Value("case_types") is not { } node) return null;
        var src = rules.Src;
        var field = rules.Field("case_types");
        if (node is not YamlMappingNode map)
        {
            src.Error(node.Start, field, $"expected a mapping from case type to its rules, e.g. illegal_parking: {{min_dwell: 10m}} (got {YamlSource.Describe(node)})");
            return null;
        }
        var known = caseTypes.Select(t => t.Id).ToList();
        var result = new Dictionary<string, CaseTypeRuleOverrides>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Children)
        {
            if (k is not YamlScalarNode { Value: { } id } ks)
            {
                src.Error(k.Start, field, $"keys must be case type ids (got {YamlSource.Describe(k)})");
                continue;
            }
            var f = $"{field}.{id}";
            if (!known.Contains(id))
            {
                var hint = YamlSource.Closest(id, known) is { } near ? $"did you mean '{near}'? " : "";
                src.Error(ks.Start, f, $"unknown case type '{YamlSource.Shorten(id)}'; {hint}known: {string.Join(", ", known)} (a new type must be added under case_types first)");
                continue;
            }
            if (Section.Open(src, v, f, ks.Start, CaseTypeRuleKeys) is not { } t) continue;
            var dwell = t.Duration("min_dwell");
            if (dwell > TimeSpan.FromDays(1))
            {
                src.Error(t.Value("min_dwell")!.Start, t.Field("min_dwell"), $"must be at most 24h (got {((YamlScalarNode)t.Value("min_dwell")!).Value})");
                dwell = null;
            }
            result[id] = new CaseTypeRuleOverrides
            {
                MinConfidence = t.Value("min_confidence") is { } mc ? (float?)Scalars.Range(src, mc, t.Field("min_confidence"), 0, 1) : null,
                MinDwell = dwell,
                RequireStationary = t.Bool("stationary"),
                StationaryRadius = t.Value("stationary_radius") is { } sr ? Scalars.Range(src, sr, t.Field("stationary_radius"), 0, 1, minExclusive: true) : null,
                ReportOnce = t.Bool("report_once"),
            };
        }
        return result;
    }

    private static DedupSettings ReadDedup(Section top)
    {
        var d = new DedupSettings();
        if (top.Child("dedup", DedupKeys) is not { } sec) return d;
        return d with
        {
            SamePlaceRadiusMetres = sec.Value("same_place_radius_m") is { } n
                ? Scalars.Range(sec.Src, n, sec.Field("same_place_radius_m"), 0, 1000, minExclusive: true) ?? d.SamePlaceRadiusMetres
                : d.SamePlaceRadiusMetres,
            Window = sec.Duration("window") ?? d.Window,
            Cooldown = sec.Duration("cooldown") ?? d.Cooldown,
            RejectCooldown = sec.Duration("reject_cooldown") ?? d.RejectCooldown,
        };
    }

    /// <summary>An IANA time zone id the system knows (e.g. Asia/Shanghai), or null when absent or unknown (the error is recorded).</summary>
    private static TimeZoneInfo? ReadTimeZone(Section sec, string key)
    {
        if (sec.Text(key) is not { } text) return null;
        var id = text.Trim();
        if (TimeZones.TryFind(id, out var tz)) return tz;
        // Without the system's time zone data the default still works (China has no daylight saving).
        if (id == TimeZones.DefaultId) return TimeZones.Default;
        string hint;
        if (id.Contains("beijing", StringComparison.OrdinalIgnoreCase) || id.Equals("China", StringComparison.OrdinalIgnoreCase) || id.Equals("CST", StringComparison.OrdinalIgnoreCase))
            hint = "China Standard Time is 'Asia/Shanghai'; ";
        else
        {
            var ids = TimeZoneInfo.GetSystemTimeZones().Select(z => z.Id);
            hint = YamlSource.Closest(id, ids) is { } near ? $"did you mean '{near}'? " : "";
        }
        sec.Src.Error(sec.Value(key)!.Start, sec.Field(key),
            $"unknown time zone '{YamlSource.Shorten(id)}'; {hint}use an IANA id such as Asia/Shanghai or Asia/Urumqi");
        return null;
    }

    /// <summary>Defaults, with the file's entries overriding by id (field by field) or added after them.</summary>
    private static List<CaseType> ReadCaseTypes(Section top)
    {
        var types = CaseType.Defaults.ToList();
        if (top.List("case_types") is not { } seq) return types;
        var src = top.Src;
        var firstAt = new Dictionary<string, Mark>(StringComparer.Ordinal);
        var i = 0;
        foreach (var item in seq.Children)
        {
            var path = $"case_types[{i++}]";
            if (Section.Open(src, item, path, item.Start, CaseTypeKeys) is not { } sec) continue;
            if (sec.Text("id", required: true) is not { } id) continue;
            id = id.Trim();
            if (!CaseTypeIdPattern().IsMatch(id))
            {
                src.Error(sec.Value("id")!.Start, sec.Field("id"), $"'{YamlSource.Shorten(id)}' is not a valid case type id: use lower case letters, digits and _ (e.g. illegal_parking)");
                continue;
            }
            if (firstAt.TryGetValue(id, out var first))
            {
                src.Error(sec.Value("id")!.Start, sec.Field("id"), $"case type '{id}' is listed twice (first at line {first.Line})");
                continue;
            }
            firstAt[id] = sec.Value("id")!.Start;

            var index = types.FindIndex(t => t.Id == id);
            var existing = index >= 0 ? types[index] : null;
            // A new type has no default code or Chinese name, and dispatch needs both.
            var code = sec.Text("code", required: existing is null);
            var nameZh = sec.Text("name_zh", required: existing is null);
            var nameEn = sec.Text("name_en");
            var major = sec.Text("major_class");
            var merged = new CaseType(
                id,
                code ?? existing?.Code ?? "",
                nameZh ?? existing?.NameZh ?? "",
                nameEn ?? existing?.NameEn ?? "",
                major ?? existing?.MajorClass ?? "");
            if (index >= 0) types[index] = merged;
            else types.Add(merged);
        }
        return types;
    }

    /// <summary>Ids already used, with where, so a duplicate can name both places.</summary>
    private sealed class Seen
    {
        // Case-insensitive: ids become file and folder names, and two ids differing only in case collide there.
        public Dictionary<string, string> Groups { get; } = new(StringComparer.OrdinalIgnoreCase);
        public Dictionary<string, string> Cameras { get; } = new(StringComparer.OrdinalIgnoreCase);
    }

    private static string Where(YamlSource src, Mark at) => $"{src.Display}:{at.Line}:{at.Column}";

    private static CameraGroup? ReadGroupFile(YamlSource src, IReadOnlyList<CaseType> caseTypes, TimeZoneInfo defaultTimeZone, Seen seen)
    {
        if (!src.TryLoad(out var root)) return null;
        if (root is null)
        {
            src.Error(YamlSource.FileStart, "", "file is empty; a camera group file needs 'group' and 'cameras'");
            return null;
        }
        if (Section.Open(src, root, "", YamlSource.FileStart, FileKeys) is not { } file) return null;

        string? groupId = null, groupName = null;
        string? district = null, street = null, grid = null, unit = null;
        var defaults = new CameraDefaults();
        var mode = IngestMode.Continuous;
        var timeZone = defaultTimeZone;
        var known = caseTypes.Select(t => t.Id).ToList();

        if (!file.Has("group")) file.Required("group");
        else if (file.Child("group", GroupKeys) is { } g)
        {
            groupId = g.Text("id", required: true)?.Trim();
            if (groupId is not null)
            {
                var at = g.Value("id")!.Start;
                if (!IdPattern().IsMatch(groupId))
                {
                    src.Error(at, g.Field("id"), $"'{YamlSource.Shorten(groupId)}' is not a valid id: start with a letter or digit, then letters, digits, '.', '_' or '-'");
                    groupId = null;
                }
                else if (seen.Groups.TryGetValue(groupId, out var first))
                    src.Error(at, g.Field("id"), $"duplicate group id '{groupId}' (also defined at {first})");
                else
                    seen.Groups[groupId] = Where(src, at);
            }
            groupName = g.Text("name", required: true);
            district = g.Text("district");
            street = g.Text("street");
            grid = g.Text("grid");
            unit = g.Text("responsible_unit");
            timeZone = ReadTimeZone(g, "timezone") ?? defaultTimeZone;
            mode = Choice<IngestMode>(g, "mode") ?? IngestMode.Continuous;
            if (g.Child("defaults", DefaultKeys) is { } d)
            {
                defaults = new CameraDefaults(
                    Positive(d, "sample_interval"),
                    KnownCaseTypes(d, "detectors", known),
                    d.Bool("real_time"),
                    d.Bool("loop"),
                    d.Bool("enabled"),
                    Choice<DecoderKind>(d, "decoder"));
            }
        }

        var cameras = new List<Camera>();
        if (file.List("cameras") is { } seq)
        {
            var i = 0;
            foreach (var item in seq.Children)
            {
                var path = $"cameras[{i++}]";
                if (Section.Open(src, item, path, item.Start, CameraKeys) is { } cam
                    && ReadCamera(cam, groupId ?? "", mode, timeZone, defaults, known, seen) is { } c)
                    cameras.Add(c);
            }
        }

        return new CameraGroup
        {
            Id = groupId ?? "",
            Name = groupName ?? "",
            District = district,
            Street = street,
            Grid = grid,
            ResponsibleUnit = unit,
            TimeZone = timeZone,
            Cameras = cameras,
        };
    }

    private sealed record CameraDefaults(
        TimeSpan? SampleInterval = null,
        List<string>? Detectors = null,
        bool? RealTime = null,
        bool? Loop = null,
        bool? Enabled = null,
        DecoderKind? Decoder = null);

    private static Camera? ReadCamera(Section cam, string groupId, IngestMode mode, TimeZoneInfo timeZone, CameraDefaults defaults, IReadOnlyList<string> known, Seen seen)
    {
        var src = cam.Src;

        var id = cam.Text("id", required: true)?.Trim();
        if (id is not null)
        {
            var at = cam.Value("id")!.Start;
            if (!IdPattern().IsMatch(id))
                src.Error(at, cam.Field("id"), $"'{YamlSource.Shorten(id)}' is not a valid camera id: start with a letter or digit, then letters, digits, '.', '_' or '-'");
            else if (seen.Cameras.TryGetValue(id, out var first))
                src.Error(at, cam.Field("id"), $"duplicate camera id '{id}' (also defined at {first}); camera ids must be unique across all camera files");
            else
                seen.Cameras[id] = Where(src, at);
        }

        var name = cam.Text("name", required: true);
        var url = ReadUrl(cam, out var isFile);

        var lat = cam.Value("latitude") is { } latNode ? Scalars.Range(src, latNode, cam.Field("latitude"), -90, 90) : Missing(cam, "latitude");
        var lon = cam.Value("longitude") is { } lonNode ? Scalars.Range(src, lonNode, cam.Field("longitude"), -180, 180) : Missing(cam, "longitude");

        var interval = Positive(cam, "sample_interval") ?? defaults.SampleInterval ?? TimeSpan.FromSeconds(1);

        List<string>? detectors;
        if (cam.Has("detectors")) detectors = KnownCaseTypes(cam, "detectors", known);
        else
        {
            detectors = defaults.Detectors;
            if (detectors is null) cam.Required("detectors", "set it on the camera or in group.defaults");
        }

        var loop = cam.Bool("loop");
        if (loop == true && url is not null && !isFile)
            src.Error(cam.Value("loop")!.Start, cam.Field("loop"), "applies to local video files only, not to a stream URL");

        var zones = ReadZones(cam, known, detectors);
        var ground = ReadGround(cam, lat, lon);
        var startsAt = ReadStartsAt(cam, timeZone);
        if (startsAt is not null && url is not null && !isFile)
            src.Error(cam.Value("starts_at")!.Start, cam.Field("starts_at"), "applies to local video files only; a stream is timed by its arrival");

        return new Camera
        {
            Id = id ?? "",
            Name = name ?? "",
            GroupId = groupId,
            Url = url ?? "",
            Latitude = lat ?? 0,
            Longitude = lon ?? 0,
            TimeZone = timeZone,
            Ground = ground,
            SampleInterval = interval,
            Detectors = detectors ?? [],
            Zones = zones,
            RealTime = cam.Bool("real_time") ?? defaults.RealTime ?? true,
            Loop = loop ?? defaults.Loop ?? false,
            StartsAt = startsAt,
            Enabled = cam.Bool("enabled") ?? defaults.Enabled ?? true,
            Mode = mode,
            Decoder = Choice<DecoderKind>(cam, "decoder") ?? defaults.Decoder ?? DecoderKind.Cpu,
        };
    }

    /// <summary>
    /// A recorded file's start: ISO 8601, with an offset (2026-11-23T14:00:00+08:00) or without one, then in the camera's
    /// local time zone (the one its zone schedules use).
    /// </summary>
    private static DateTimeOffset? ReadStartsAt(Section cam, TimeZoneInfo timeZone)
    {
        if (cam.Text("starts_at") is not { } raw) return null;
        raw = raw.Trim();
        var styles = System.Globalization.DateTimeStyles.AllowWhiteSpaces;
        var formats = new[] { "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm" };
        var zoned = System.Text.RegularExpressions.Regex.IsMatch(raw, @"(Z|[+-]\d{2}:?\d{2})$");
        if (zoned && DateTimeOffset.TryParse(raw, System.Globalization.CultureInfo.InvariantCulture, styles, out var withOffset))
            return withOffset;
        if (!zoned && DateTime.TryParseExact(raw, formats, System.Globalization.CultureInfo.InvariantCulture, styles, out var local))
            return new DateTimeOffset(local, timeZone.GetUtcOffset(local));
        cam.Src.Error(cam.Value("starts_at")!.Start, cam.Field("starts_at"),
            $"'{raw}' is not a time; expected ISO 8601 such as 2026-11-23T14:00:00+08:00 (without an offset: the camera's time zone, {timeZone.Id})");
        return null;
    }

    private static double? Missing(Section sec, string key)
    {
        sec.Required(key);
        return null;
    }

    /// <summary>rtsp:// or rtsps:// with a host (kept as written), or an existing video file (made absolute).</summary>
    private static string? ReadUrl(Section cam, out bool isFile)
    {
        isFile = false;
        if (cam.Text("url", required: true) is not { } raw) return null;
        var src = cam.Src;
        var at = cam.Value("url")!.Start;
        var field = cam.Field("url");
        raw = raw.Trim();
        if (raw.Any(char.IsWhiteSpace))
        {
            // Uri would quietly escape a space, and a stray quote or comment glued to a URL is almost always a typo.
            src.Error(at, field, $"must not contain spaces (got {Secrets.RedactUrl(raw)}); percent-encode them as %20 in a URL");
            return null;
        }

        var schemeEnd = raw.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd >= 0)
        {
            var scheme = raw[..schemeEnd].ToLowerInvariant();
            if (scheme is not ("rtsp" or "rtsps"))
            {
                src.Error(at, field, $"unsupported URL scheme '{YamlSource.Shorten(scheme)}' in {Secrets.RedactUrl(raw)}; use rtsp://, rtsps:// or a local video file path");
                return null;
            }
            if (!Uri.TryCreate(raw, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            {
                src.Error(at, field, $"{Secrets.RedactUrl(raw)} is not a valid {scheme} URL: it needs a host, e.g. {scheme}://192.0.2.10:554/stream");
                return null;
            }
            return raw;
        }

        isFile = true;
        var full = src.Resolve(raw);
        if (!File.Exists(full))
        {
            src.Error(at, field, $"no such video file: {raw} (looked for {full}); url must be rtsp://, rtsps:// or a video file path relative to this file");
            return null;
        }
        return full;
    }

    private static TimeSpan? Positive(Section sec, string key)
    {
        if (sec.Duration(key) is not { } d) return null;
        if (d > TimeSpan.Zero) return d;
        sec.Src.Error(sec.Value(key)!.Start, sec.Field(key), $"must be greater than 0 (got {(sec.Value(key) is YamlScalarNode s ? s.Value : d.ToString())})");
        return null;
    }

    /// <summary>A non-empty list of known case type ids; null (with errors) otherwise.</summary>
    private static List<string>? KnownCaseTypes(Section sec, string key, IReadOnlyList<string> known)
    {
        if (sec.TextList(key) is not { } items) return null;
        if (items.Count == 0)
        {
            sec.Src.Error(sec.Value(key)!.Start, sec.Field(key), $"must name at least one case type ({string.Join(", ", known)})");
            return null;
        }
        var ok = true;
        var result = new List<string>();
        foreach (var (value, node, field) in items)
        {
            if (known.Contains(value))
            {
                if (!result.Contains(value)) result.Add(value);
                continue;
            }
            ok = false;
            var hint = YamlSource.Closest(value, known) is { } near ? $"did you mean '{near}'? " : "";
            sec.Src.Error(node.Start, field,
                $"unknown case type '{YamlSource.Shorten(value)}'; {hint}known: {string.Join(", ", known)} (more can be added under case_types in citysight.yaml)");
        }
        return ok ? result : null;
    }

    private static List<Zone> ReadZones(Section cam, IReadOnlyList<string> known, List<string>? detectors)
    {
        var zones = new List<Zone>();
        if (cam.List("zones") is not { } seq) return zones;
        var src = cam.Src;
        var names = new Dictionary<string, Mark>(StringComparer.Ordinal);
        var i = 0;
        foreach (var item in seq.Children)
        {
            var path = $"{cam.Field("zones")}[{i++}]";
            if (Section.Open(src, item, path, item.Start, ZoneKeys) is not { } z) continue;

            var name = z.Text("name", required: true)?.Trim();
            if (name is not null)
            {
                var at = z.Value("name")!.Start;
                if (names.TryGetValue(name, out var first))
                    src.Error(at, z.Field("name"), $"duplicate zone name '{name}' on this camera (first at line {first.Line})");
                else
                    names[name] = at;
            }

            var polygon = z.Has("polygon") ? ReadPolygon(z) : null;
            if (!z.Has("polygon")) z.Required("polygon");

            // Absent means "every case type the camera looks for"; an explicit [] is ambiguous, so it is an error.
            List<string>? types;
            if (z.Has("case_types"))
            {
                types = KnownCaseTypes(z, "case_types", known);
                if (types is not null && detectors is not null)
                {
                    var items = z.TextList("case_types")!;
                    foreach (var (value, node, field) in items)
                        if (!detectors.Contains(value))
                            src.Error(node.Start, field, $"case type '{value}' is not among this camera's detectors ({string.Join(", ", detectors)}), so this zone would never see it");
                }
            }
            else types = detectors;

            var exclude = z.Bool("exclude") ?? false;
            var schedule = z.Has("schedule") ? ReadSchedule(z) : null;

            zones.Add(new Zone(name ?? "", polygon ?? [], types ?? []) { Exclude = exclude, Schedule = schedule });
        }
        return zones;
    }

    private static List<NormalisedPoint>? ReadPolygon(Section z)
    {
        var src = z.Src;
        var field = z.Field("polygon");
        if (z.List("polygon") is not { } seq) return null;
        var points = new List<NormalisedPoint>();
        var ok = true;
        var i = 0;
        foreach (var item in seq.Children)
        {
            if (ReadImagePoint(src, item, $"{field}[{i++}]") is { } p) points.Add(p);
            else ok = false;
        }
        if (seq.Children.Count < 3)
        {
            src.Error(seq.Start, field, $"needs at least 3 points (got {seq.Children.Count})");
            return null;
        }
        if (!ok) return null;
        if (Math.Abs(ShoelaceArea(points)) < 1e-9)
        {
            // Collinear or repeated points: the zone would contain nothing and silently suppress every case.
            src.Error(seq.Start, field, "has no area (its points are all on one line)");
            return null;
        }
        return points;
    }

    /// <summary>A point [x, y] on the image, each 0..1 as a fraction of its width and height.</summary>
    private static NormalisedPoint? ReadImagePoint(YamlSource src, YamlNode item, string f)
    {
        if (item is not YamlSequenceNode { Children.Count: 2 } xy)
        {
            src.Error(item.Start, f, $"expected a point [x, y] (got {YamlSource.Describe(item)}{(item is YamlSequenceNode s ? $" of {s.Children.Count} values" : "")})");
            return null;
        }
        var x = Scalars.Number(src, xy.Children[0], f);
        var y = Scalars.Number(src, xy.Children[1], f);
        if (x is null || y is null) return null;
        if (x is < 0 or > 1 || y is < 0 or > 1)
        {
            src.Error(item.Start, f, $"x and y must be between 0 and 1, as fractions of the image width and height (got [{Scalars.Fmt(x.Value)}, {Scalars.Fmt(y.Value)}])");
            return null;
        }
        return new NormalisedPoint(x.Value, y.Value);
    }

    /// <summary>
    /// schedule: "06:00-22:00"; a list of such windows and/or {days, hours} entries; or one {days, hours} entry.
    /// The zone is in force while any entry is.
    /// </summary>
    private static ZoneSchedule? ReadSchedule(Section z)
    {
        var src = z.Src;
        var node = z.Value("schedule")!;
        var field = z.Field("schedule");
        var entries = new List<ScheduleEntry>();
        var ok = true;
        switch (node)
        {
            case YamlScalarNode:
                if (ReadWindow(src, node, field) is { } w) entries.Add(new ScheduleEntry(w));
                else ok = false;
                break;
            case YamlMappingNode:
                if (ReadScheduleEntry(src, node, field) is { } e) entries.Add(e);
                else ok = false;
                break;
            case YamlSequenceNode seq:
                if (seq.Children.Count == 0)
                {
                    src.Error(node.Start, field, "must list at least one window like 06:00-22:00 (leave schedule out for a zone that is always in force)");
                    return null;
                }
                var i = 0;
                foreach (var item in seq.Children)
                {
                    var f = $"{field}[{i++}]";
                    var entry = item switch
                    {
                        YamlMappingNode => ReadScheduleEntry(src, item, f),
                        YamlScalarNode => ReadWindow(src, item, f) is { } win ? new ScheduleEntry(win) : null,
                        _ => Invalid(src, item, f),
                    };
                    if (entry is null) ok = false;
                    else entries.Add(entry);
                }
                break;
        }
        return ok ? new ZoneSchedule(entries) : null;

        static ScheduleEntry? Invalid(YamlSource src, YamlNode item, string f)
        {
            src.Error(item.Start, f, $"expected a window like 06:00-22:00 or {{days: [sat, sun], hours: [08:00-20:00]}} (got {YamlSource.Describe(item)})");
            return null;
        }
    }

    /// <summary>{days: [sat, sun], hours: ["08:00-20:00"]}: either may be one item instead of a list; no days = every day, no hours = all day.</summary>
    private static ScheduleEntry? ReadScheduleEntry(YamlSource src, YamlNode node, string field)
    {
        if (Section.Open(src, node, field, node.Start, ScheduleKeys) is not { } e) return null;
        if (!e.Has("days") && !e.Has("hours"))
        {
            src.Error(node.Start, field, "give days, hours or both, e.g. {days: [sat, sun], hours: [08:00-20:00]}");
            return null;
        }
        var ok = true;
        var days = new List<DayOfWeek>();
        foreach (var (item, f) in Items(src, e, "days", "day like mon or a range like mon-fri", ref ok))
        {
            if (Scalars.Text(src, item, f) is not { } text) { ok = false; continue; }
            if (ZoneSchedule.TryParseDays(text, out var some, out var error))
                days.AddRange(some.Where(d => !days.Contains(d)));
            else
            {
                src.Error(item.Start, f, error);
                ok = false;
            }
        }
        var hours = new List<DailyWindow>();
        foreach (var (item, f) in Items(src, e, "hours", "window like 06:00-22:00", ref ok))
        {
            if (ReadWindow(src, item, f) is { } w) hours.Add(w);
            else ok = false;
        }
        return ok ? new ScheduleEntry(days, hours) : null;

        // A list, or a single item written without brackets.
        static List<(YamlNode Node, string Field)> Items(YamlSource src, Section e, string key, string what, ref bool ok)
        {
            var items = new List<(YamlNode, string)>();
            if (e.Value(key) is not { } value) return items;
            if (value is YamlSequenceNode seq)
            {
                if (seq.Children.Count == 0)
                {
                    src.Error(seq.Start, e.Field(key), $"must list at least one {what} (leave {key} out for {(key == "days" ? "every day" : "all day")})");
                    ok = false;
                }
                var i = 0;
                foreach (var item in seq.Children) items.Add((item, $"{e.Field(key)}[{i++}]"));
            }
            else items.Add((value, e.Field(key)));
            return items;
        }
    }

    private static DailyWindow? ReadWindow(YamlSource src, YamlNode node, string field)
    {
        if (Scalars.Text(src, node, field) is not { } text) return null;
        if (DailyWindow.TryParse(text, out var w, out var error)) return w;
        src.Error(node.Start, field, error);
        return null;
    }

    /// <summary>
    /// ground: 4+ points, each {image: [x, y], lat, lon}, with four of them in general position on the image and on the
    /// ground (a homography needs that). Absent or [] = no mapping: the camera's own position stands for its hits.
    /// </summary>
    private static List<GroundPoint> ReadGround(Section cam, double? cameraLat, double? cameraLon)
    {
        if (cam.List("ground") is not { Children.Count: > 0 } seq) return [];
        var src = cam.Src;
        var field = cam.Field("ground");
        var points = new List<GroundPoint>();
        var ok = true;
        var i = 0;
        foreach (var item in seq.Children)
        {
            var f = $"{field}[{i++}]";
            if (Section.Open(src, item, f, item.Start, GroundKeys) is not { } g) { ok = false; continue; }
            NormalisedPoint? image = null;
            if (g.Value("image") is { } imageNode) image = ReadImagePoint(src, imageNode, g.Field("image"));
            else g.Required("image");
            var lat = g.Value("lat") is { } latNode ? Scalars.Range(src, latNode, g.Field("lat"), -90, 90) : Missing(g, "lat");
            var lon = g.Value("lon") is { } lonNode ? Scalars.Range(src, lonNode, g.Field("lon"), -180, 180) : Missing(g, "lon");
            if (image is null || lat is null || lon is null) { ok = false; continue; }
            if (cameraLat is { } cl && cameraLon is { } co)
            {
                var (dx, dy) = Metres(lat.Value, lon.Value, cl, co);
                var km = Math.Sqrt(dx * dx + dy * dy) / 1000;
                if (km > MaxGroundDistanceKm)
                {
                    src.Error(item.Start, f, $"is {km:0.#} km from the camera's own latitude/longitude; ground points must be places this camera sees (at most {MaxGroundDistanceKm} km away): check the digits, and that lat and lon are not swapped");
                    ok = false;
                    continue;
                }
            }
            points.Add(new GroundPoint(image.Value, lat.Value, lon.Value));
        }
        var at = cam.KeyMark("ground");
        if (seq.Children.Count < 4)
        {
            src.Error(at, field, $"needs at least 4 points for a ground mapping (got {seq.Children.Count}); leave ground out to use the camera's own latitude/longitude");
            return [];
        }
        if (!ok) return [];
        if (!HasFourInGeneralPosition(points.Select(p => (p.Image.X, p.Image.Y)).ToList(), MinImageCross))
        {
            src.Error(at, field, "the image points are all on one line (or repeated): a ground mapping needs 4 points with no three on one line");
            return [];
        }
        var origin = points[0];
        if (!HasFourInGeneralPosition(points.Select(p => Metres(p.Latitude, p.Longitude, origin.Latitude, origin.Longitude)).ToList(), MinGroundCross))
        {
            src.Error(at, field, "the lat/lon points are all on one line (or repeated): a ground mapping needs 4 places with no three on one line");
            return [];
        }
        return points;
    }

    private const double MaxGroundDistanceKm = 5;
    /// <summary>Twice the smallest triangle area (fraction of the image) that counts as "not on one line".</summary>
    private const double MinImageCross = 1e-4;
    /// <summary>Ditto on the ground, in square metres.</summary>
    private const double MinGroundCross = 0.5;

    /// <summary>East and north metres of (lat, lon) from (lat0, lon0); plenty accurate over a camera's view.</summary>
    private static (double X, double Y) Metres(double lat, double lon, double lat0, double lon0) =>
        ((lon - lon0) * 111_320 * Math.Cos(lat0 * Math.PI / 180), (lat - lat0) * 110_574);

    /// <summary>Whether some 4 of the points have no 3 on one line (brute force: the lists are short).</summary>
    private static bool HasFourInGeneralPosition(List<(double X, double Y)> p, double minCross)
    {
        bool Apart(int a, int b, int c) =>
            Math.Abs((p[b].X - p[a].X) * (p[c].Y - p[a].Y) - (p[b].Y - p[a].Y) * (p[c].X - p[a].X)) >= minCross;
        for (var i = 0; i < p.Count; i++)
            for (var j = i + 1; j < p.Count; j++)
                for (var k = j + 1; k < p.Count; k++)
                {
                    if (!Apart(i, j, k)) continue;
                    for (var l = k + 1; l < p.Count; l++)
                        if (Apart(i, j, l) && Apart(i, k, l) && Apart(j, k, l)) return true;
                }
        return false;
    }

    private static double ShoelaceArea(List<NormalisedPoint> p)
    {
        double a = 0;
        for (int i = 0, j = p.Count - 1; i < p.Count; j = i++) a += (p[j].X + p[i].X) * (p[j].Y - p[i].Y);
        return a / 2;
    }
}
