using CitySight.Domain;
using CitySight.Inference;
using CitySight.Rules;

namespace CitySight.Configuration.Tests;

public class MainFileTests
{
    [Fact]
    public void Empty_main_file_gives_defaults_and_no_cameras()
    {
        var t = new TestConfig("# nothing set\n");
        var r = t.Load();
        Assert.True(r.Success, TestConfig.AllErrors(r));
        var c = r.Config!;
        var d = new CitySightConfig { SourceFile = "" };
        Assert.Equal(d.Service.GrpcPort, c.Service.GrpcPort);
        Assert.Equal(d.Rules, c.Rules);
        Assert.Equal(d.Dedup, c.Dedup);
        Assert.Equal(new SiteDedupOptions { SamePlaceRadiusMetres = 15, Window = TimeSpan.FromMinutes(30), Cooldown = TimeSpan.FromMinutes(30) }, c.Dedup);
        Assert.Equal("Asia/Shanghai", c.Service.TimeZone.Id);
        Assert.Equal(d.Models.Run, c.Models.Run);
        Assert.Equal(new ModelRun { Model = "yolov8n-coco-int8" }, Assert.Single(c.Models.Run));
        Assert.Equal(CaseType.Defaults, c.CaseTypes);
        Assert.Empty(c.Groups);
        // The default cameras folder sits beside the main file; missing is fine.
        Assert.Equal(t.CamerasDir, c.CamerasDir);
    }

    [Fact]
    public void Values_are_read_and_relative_paths_resolve_against_the_file()
    {
        var t = new TestConfig("""
            service:
              grpc_port: 6000
              http_port: 6001
              data_dir: ../store
              timezone: Europe/London
            models:
              manifest: m/manifest.yaml
              detector: yolox-nano-coco
              search_paths: [a, /opt/models]
              threads: 4
            rules:
              min_confidence: 0.5
              confirm_samples: 5
              same_object_iou: 1
              dedup_window: 1h30m
              case_types:
                illegal_parking: {min_confidence: 0.6, min_dwell: 15m, stationary_radius: 0.1}
                street_stall:
                  stationary: true
                  report_once: true
                garbage:
            dedup:
              same_place_radius_m: 25.5
              window: 1h
              cooldown: 0
              reject_cooldown: 168h
            cameras: cams
            """);
        var r = t.Load();
        Assert.True(r.Success, TestConfig.AllErrors(r));
        var c = r.Config!;
        Assert.Equal((6000, 6001), (c.Service.GrpcPort, c.Service.HttpPort));
        Assert.Equal(Path.GetFullPath(Path.Combine(t.Dir, "..", "store")), c.Service.DataDir);
        Assert.Equal(Path.Combine(t.Dir, "m", "manifest.yaml"), c.Models.Manifest);
        Assert.Equal([Path.Combine(t.Dir, "a"), "/opt/models"], c.Models.SearchPaths);
        // detector/threads is the shorthand for one model on the CPU.
        Assert.Equal(new ModelRun { Model = "yolox-nano-coco", Detector = new() { Threads = 4 } }, Assert.Single(c.Models.Run));
        Assert.Equal("Europe/London", c.Service.TimeZone.Id);
        Assert.Equal(new RuleOptions
        {
            MinConfidence = 0.5f, ConfirmSamples = 5, SameObjectIoU = 1, DedupWindow = TimeSpan.FromMinutes(90),
            CaseTypes = new Dictionary<string, CaseTypeRuleOverrides>
            {
                ["illegal_parking"] = new() { MinConfidence = 0.6f, MinDwell = TimeSpan.FromMinutes(15), StationaryRadius = 0.1 },
                ["street_stall"] = new() { RequireStationary = true, ReportOnce = true },
                ["garbage"] = new(),
            },
        }, c.Rules);
        Assert.Equal(
            new CaseTypeRules { MinConfidence = 0.6f, MinDwell = TimeSpan.FromMinutes(15), RequireStationary = true, StationaryRadius = 0.1 },
            c.Rules.RuleFor("illegal_parking"));
        // Unset fields keep the type's built-in defaults; min_confidence falls back to rules.min_confidence.
        Assert.Equal(
            new CaseTypeRules { MinConfidence = 0.5f, MinDwell = TimeSpan.FromMinutes(5), RequireStationary = true, ReportOnce = true },
            c.Rules.RuleFor("street_stall"));
        Assert.Equal(RuleOptions.BuiltIn("garbage") with { MinConfidence = 0.5f }, c.Rules.RuleFor("garbage"));
        Assert.Equal(new SiteDedupOptions { SamePlaceRadiusMetres = 25.5, Window = TimeSpan.FromHours(1), Cooldown = TimeSpan.Zero, RejectCooldown = TimeSpan.FromDays(7) }, c.Dedup);
        Assert.Equal(Path.Combine(t.Dir, "cams"), c.CamerasDir);
    }

    [Fact]
    public void Evidence_retention_is_read_with_its_defaults()
    {
        var d = new TestConfig("service:\n  grpc_port: 6000\n").Load().Config!.Service.EvidenceRetention;
        Assert.Equal((90, 50.0), (d.EvidenceRetentionDays, d.EvidenceMaxGigabytes));
        var s = new TestConfig("service:\n  evidence_retention_days: 30\n  evidence_max_gb: 2.5\n").Load().Config!.Service.EvidenceRetention;
        Assert.Equal((30, 2.5), (s.EvidenceRetentionDays, s.EvidenceMaxGigabytes));
    }

    [Fact]
    public void Several_models_run_with_their_own_provider_batch_and_threads()
    {
        var r = new TestConfig("""
            models:
              run:
                - model: yolov8n-coco-int8
                - model: yolox-nano-coco-dynbatch
                  provider: cuda
                  device_id: 1
                  threads: 2
                  max_batch: 8
                  max_wait: 20ms
                  instances: 2
            """).Load();
        Assert.True(r.Success, TestConfig.AllErrors(r));
        Assert.Equal(
            [
                new ModelRun { Model = "yolov8n-coco-int8" },
                new ModelRun
                {
                    Model = "yolox-nano-coco-dynbatch",
                    Detector = new DetectorOptions
                    {
                        Provider = ExecutionProvider.Cuda, DeviceId = 1, Threads = 2, MaxBatch = 8, MaxWait = TimeSpan.FromMilliseconds(20), Instances = 2,
                    },
                },
            ],
            r.Config!.Models.Run);
    }

    // yaml: the offending line carries "#<"; at: the text on that line the error must point to.
    public static TheoryData<string, string, string, string> BadValues => new()
    {
        { "service:\n  grpc_port: 70000 #<\n", "service.grpc_port", "70000", "must be between 1 and 65535 (got 70000)" },
        { "service:\n  http_port: 0 #<\n", "service.http_port", "0", "must be between 1 and 65535 (got 0)" },
        { "service:\n  http_port: web #<\n", "service.http_port", "web", "expected a whole number (got 'web')" },
        { "service:\n  grpc_port: 7000\n  http_port: 7000 #<\n", "service.http_port", "http_port", "cannot share port 7000" },
        { "service:\n  grcp_port: 1 #<\n", "service.grcp_port", "grcp_port", "unknown key 'grcp_port'; did you mean 'grpc_port'? allowed: grpc_port, http_port, bind_address, data_dir" },
        { "servise: #<\n  grpc_port: 1\n", "servise", "servise", "allowed: service, models, rules, dedup, ingest, case_types, cameras" },
        { "service:\n  timezone: Asia/Shangai #<\n", "service.timezone", "Asia/Shangai", "unknown time zone 'Asia/Shangai'; did you mean 'Asia/Shanghai'? use an IANA id such as Asia/Shanghai" },
        { "service:\n  timezone: Asia/Beijing #<\n", "service.timezone", "Asia/Beijing", "unknown time zone 'Asia/Beijing'; China Standard Time is 'Asia/Shanghai'" },
        { "service:\n  timezone: [UTC] #<\n", "service.timezone", "[UTC]", "expected text" },
        { "service: 8080 #<\n", "service", "8080", "expected a mapping" },
        { "service:\n  evidence_retention_days: 0 #<\n", "service.evidence_retention_days", "0", "must be between 1 and 36500 (got 0)" },
        { "service:\n  evidence_max_gb: 0 #<\n", "service.evidence_max_gb", "0", "must be greater than 0" },
        { "models:\n  threads: -1 #<\n", "models.threads", "-1", "must be between 0 and 1024 (got -1)" },
        { "models:\n  search_paths: ../models #<\n", "models.search_paths", "../models", "expected a list" },
        { "models:\n  detector: \"\" #<\n", "models.detector", "\"\"", "must not be empty" },
        { "models:\n  run:\n    - model: m\n      provider: tpu #<\n", "models.run[0].provider", "tpu", "'tpu' is not one of: cpu, cuda, tensorrt, openvino" },
        { "models:\n  run:\n    - model: m\n      max_batch: 0 #<\n", "models.run[0].max_batch", "0", "must be between 1 and 256 (got 0)" },
        { "models:\n  run:\n    - model: m\n      max_wait: soon #<\n", "models.run[0].max_wait", "soon", "500ms, 5s, 10m, 1h, 1h30m" },
        { "models:\n  run:\n    - model: m\n      batch: 4 #<\n", "models.run[0].batch", "batch", "unknown key 'batch'; allowed: model, provider, device_id, threads, max_batch, max_wait, instances" },
        { "models:\n  run:\n    - model: yolo\n    - model: yolo #<\n", "models.run[1].model", "yolo", "listed twice (first at line 3)" },
        { "models:\n  run:\n    - provider: cpu #<\n", "models.run[0].model", "provider", "is required" },
        { "models:\n  run: [] #<\n", "models.run", "run", "the list is empty" },
        { "models:\n  detector: m #<\n  run:\n    - model: m\n", "models.detector", "detector", "either run (a list of models) or detector/threads, not both" },
        { "rules:\n  min_confidence: 1.2 #<\n", "rules.min_confidence", "1.2", "must be between 0 and 1 (got 1.2)" },
        { "rules:\n  confirm_samples: 0 #<\n", "rules.confirm_samples", "0", "must be at least 1 (got 0)" },
        { "rules:\n  same_object_iou: 0 #<\n", "rules.same_object_iou", "0", "must be greater than 0 and at most 1 (got 0)" },
        { "rules:\n  same_object_iou: 1.5 #<\n", "rules.same_object_iou", "1.5", "must be greater than 0 and at most 1 (got 1.5)" },
        { "rules:\n  dedup_window: 10 minutes #<\n", "rules.dedup_window", "10 minutes", "500ms, 5s, 10m, 1h, 1h30m" },
        { "rules:\n  case_types:\n    illegal_parkin: {min_dwell: 5m} #<\n", "rules.case_types.illegal_parkin", "illegal_parkin",
            "unknown case type 'illegal_parkin'; did you mean 'illegal_parking'? known: street_stall, garbage, illegal_parking, billboard (a new type must be added under case_types first)" },
        { "rules:\n  case_types:\n    night_market: #<\n      min_dwell: 5m\n", "rules.case_types.night_market", "night_market", "unknown case type 'night_market'; known: " },
        { "rules:\n  case_types: [garbage] #<\n", "rules.case_types", "[garbage]", "expected a mapping from case type to its rules, e.g. illegal_parking: {min_dwell: 10m} (got a list)" },
        { "rules:\n  case_types:\n    garbage: 10m #<\n", "rules.case_types.garbage", "10m", "expected a mapping with keys min_confidence, min_dwell, stationary, stationary_radius, report_once" },
        { "rules:\n  case_types:\n    garbage: {dwell: 5m} #<\n", "rules.case_types.garbage.dwell", "dwell", "unknown key 'dwell'; allowed: min_confidence, min_dwell, stationary, stationary_radius, report_once" },
        { "rules:\n  case_types:\n    garbage:\n      min_dwell: soon #<\n", "rules.case_types.garbage.min_dwell", "soon", "expected a duration (got 'soon')" },
        { "rules:\n  case_types:\n    garbage:\n      min_dwell: 25h #<\n", "rules.case_types.garbage.min_dwell", "25h", "must be at most 24h (got 25h)" },
        { "rules:\n  case_types:\n    garbage:\n      min_confidence: 2 #<\n", "rules.case_types.garbage.min_confidence", "2", "must be between 0 and 1 (got 2)" },
        { "rules:\n  case_types:\n    garbage:\n      stationary: yes #<\n", "rules.case_types.garbage.stationary", "yes", "expected true or false (got 'yes')" },
        { "rules:\n  case_types:\n    garbage:\n      stationary_radius: 0 #<\n", "rules.case_types.garbage.stationary_radius", "0", "must be greater than 0 and at most 1 (got 0)" },
        { "rules:\n  case_types:\n    billboard:\n      report_once: 1 #<\n", "rules.case_types.billboard.report_once", "1", "expected true or false (got '1')" },
        { "dedup:\n  same_place_radius_m: 0 #<\n", "dedup.same_place_radius_m", "0", "must be greater than 0 and at most 1000 (got 0)" },
        { "dedup:\n  same_place_radius_m: far #<\n", "dedup.same_place_radius_m", "far", "expected a number (got 'far')" },
        { "dedup:\n  window: 1 day #<\n", "dedup.window", "1 day", "expected a duration" },
        { "dedup:\n  cooldown: -5m #<\n", "dedup.cooldown", "-5m", "expected a duration" },
        { "dedup:\n  radius: 15 #<\n", "dedup.radius", "radius", "unknown key 'radius'; allowed: same_place_radius_m, window, cooldown, reject_cooldown" },
        { "case_types:\n  - id: night_market #<\n    name_zh: 夜市\n", "case_types[0].code", "id", "is required" },
        { "case_types:\n  - id: garbage\n    colour: red #<\n", "case_types[0].colour", "colour", "unknown key 'colour'" },
        { "case_types:\n  - id: Night-Market #<\n    code: \"9\"\n    name_zh: x\n", "case_types[0].id", "Night-Market", "not a valid case type id" },
        { "case_types:\n  - id: garbage\n  - id: garbage #<\n", "case_types[1].id", "garbage", "listed twice (first at line 2)" },
        { "cameras: [a, b] #<\n", "cameras", "[a, b]", "expected text" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void Bad_value_is_reported_at_its_line_and_column(string yaml, string field, string at, string message)
    {
        var t = new TestConfig(yaml);
        var r = t.Load();
        var e = TestConfig.Single(r, field);
        var line = TestConfig.LineOf(yaml, "#<");
        Assert.Equal(t.MainPath, e.File);
        Assert.Equal(line, e.Line);
        Assert.Equal(TestConfig.ColumnOf(yaml, line, at), e.Column);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void All_errors_in_the_main_file_are_collected()
    {
        var yaml = "service:\n  grpc_port: 0\nrules:\n  confirm_samples: 0\n  dedup_window: soon\n";
        var r = new TestConfig(yaml).Load();
        Assert.Equal(["service.grpc_port", "rules.confirm_samples", "rules.dedup_window"], r.Errors.Select(e => e.Field));
        Assert.Equal([2, 4, 5], r.Errors.Select(e => e.Line));
    }

    [Fact]
    public void Rules_per_case_type_have_built_in_defaults()
    {
        var rules = new TestConfig().Load().Config!.Rules;
        // Districts' ten-minute grace for parking (DOMAIN.md); stalls 5 minutes' presence; garbage 10 stationary minutes.
        Assert.Equal(new CaseTypeRules { MinConfidence = 0.35f, MinDwell = TimeSpan.FromMinutes(10), RequireStationary = true, StationaryRadius = 0.25 },
            rules.RuleFor("illegal_parking"));
        Assert.Equal(new CaseTypeRules { MinConfidence = 0.35f, MinDwell = TimeSpan.FromMinutes(5), RequireStationary = false },
            rules.RuleFor("street_stall"));
        Assert.Equal(new CaseTypeRules { MinConfidence = 0.35f, MinDwell = TimeSpan.FromMinutes(10), RequireStationary = true },
            rules.RuleFor("garbage"));
        Assert.Equal(new CaseTypeRules { MinConfidence = 0.35f, MinDwell = TimeSpan.Zero, RequireStationary = true, ReportOnce = true },
            rules.RuleFor("billboard"));
        // Any other type: raised once confirmed, as before.
        Assert.Equal(new CaseTypeRules { MinConfidence = 0.35f }, rules.RuleFor("night_market"));
        // The global confidence is every type's default, also when set in code.
        Assert.Equal(0.6f, new RuleOptions { MinConfidence = 0.6f, CaseTypes = new Dictionary<string, CaseTypeRuleOverrides>() }.RuleFor("garbage").MinConfidence);
    }

    [Fact]
    public void Rules_can_be_set_for_a_case_type_added_in_the_same_file()
    {
        var t = new TestConfig("""
            rules:
              case_types:
                night_market: {min_dwell: 1m, stationary: true}
            case_types:
              - {id: night_market, code: "0399", name_zh: 夜市占道}
            """);
        var r = t.Load();
        Assert.True(r.Success, TestConfig.AllErrors(r));
        Assert.Equal(new CaseTypeRules { MinConfidence = 0.35f, MinDwell = TimeSpan.FromMinutes(1), RequireStationary = true },
            r.Config!.Rules.RuleFor("night_market"));
    }

    [Fact]
    public void Rule_settings_compare_by_value_including_case_types()
    {
        RuleOptions Make() => new()
        {
            CaseTypes = new Dictionary<string, CaseTypeRuleOverrides> { ["garbage"] = new() { MinDwell = TimeSpan.FromMinutes(3) } },
        };
        Assert.Equal(Make(), Make());
        Assert.Equal(Make().GetHashCode(), Make().GetHashCode());
        Assert.NotEqual(Make(), new RuleOptions());
        Assert.NotEqual(Make(), Make() with { CaseTypes = new Dictionary<string, CaseTypeRuleOverrides> { ["garbage"] = new() } });
    }

    [Fact]
    public void Case_types_override_by_id_and_add_new_ones()
    {
        var t = new TestConfig("""
            case_types:
              - id: garbage
                code: "A17"
              - id: night_market
                code: "0399"
                name_zh: 夜市占道
            """);
        var c = ConfigLoader.LoadOrThrow(t.MainPath);
        var garbage = c.FindCaseType("garbage")!;
        var builtIn = CaseType.Defaults.Single(x => x.Id == "garbage");
        // Only the code changes; unset fields keep the built-in values.
        Assert.Equal(builtIn with { Code = "A17" }, garbage);
        Assert.Equal(new CaseType("night_market", "0399", "夜市占道", "", ""), c.CaseTypes[^1]);
        Assert.Equal(CaseType.Defaults.Count + 1, c.CaseTypes.Count);
    }

    [Fact]
    public void Missing_main_file_is_an_error_without_position()
    {
        var dir = CitySight.Tests.TestAssets.TempDir("cfg");
        var path = Path.Combine(dir, "nope.yaml");
        var r = ConfigLoader.Load(path);
        var e = Assert.Single(r.Errors);
        Assert.Null(r.Config);
        Assert.Equal((path, 0), (e.File, e.Line));
        Assert.Equal($"{path}: file not found", e.ToString());
    }

    [Fact]
    public void Syntax_error_in_main_file_gives_file_line_and_column()
    {
        var yaml = "service:\n  grpc_port: 1\n   http_port: 2 #<\n";
        var t = new TestConfig(yaml);
        t.Camera("a.yaml", "group: {id: g, name: G}\ncameras:\n  - latitude: 500\n");
        var r = t.Load();
        // Without the main file the cameras folder is unknown: only the syntax error is reported.
        var e = Assert.Single(r.Errors);
        Assert.Equal(t.MainPath, e.File);
        Assert.Equal(TestConfig.LineOf(yaml, "#<"), e.Line);
        Assert.True(e.Column > 0);
        Assert.StartsWith($"{t.MainPath}:{e.Line}:{e.Column}: YAML syntax error", e.ToString());
    }

    [Fact]
    public void Duplicate_yaml_key_is_an_error_at_the_second_one()
    {
        var yaml = "rules:\n  confirm_samples: 2\n  confirm_samples: 3 #<\n";
        var e = Assert.Single(new TestConfig(yaml).Load().Errors);
        Assert.Equal(3, e.Line);
        Assert.Contains("Duplicate key", e.Message);
    }

    [Fact]
    public void More_than_one_yaml_document_is_an_error()
    {
        var e = Assert.Single(new TestConfig("rules: {}\n---\nservice: {}\n").Load().Errors);
        Assert.Equal(3, e.Line);
        Assert.Contains("one YAML document", e.Message);
    }

    [Fact]
    public void Cameras_naming_a_file_is_an_error()
    {
        var t = new TestConfig("cameras: cams.yaml\n");
        File.WriteAllText(Path.Combine(t.Dir, "cams.yaml"), "group: {}\n");
        var e = TestConfig.Single(t.Load(), "cameras");
        Assert.Equal((1, 1), (e.Line, e.Column));
        Assert.Contains("must be a folder", e.Message);
    }

    [Fact]
    public void Empty_cameras_folder_means_no_cameras()
    {
        var t = new TestConfig();
        Directory.CreateDirectory(t.CamerasDir);
        var r = t.Load();
        Assert.True(r.Success, TestConfig.AllErrors(r));
        Assert.Empty(r.Config!.Cameras);
    }

    [Fact]
    public void LoadOrThrow_lists_every_error()
    {
        var t = new TestConfig("service:\n  grpc_port: 0\n");
        t.Camera("a.yaml", "group: {id: g, name: G}\ncameras:\n  - id: c1\n");
        var r = t.Load();
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadOrThrow(t.MainPath));
        Assert.True(r.Errors.Count >= 2);
        Assert.Equal(r.Errors, ex.Errors);
        foreach (var e in r.Errors) Assert.Contains(e.ToString(), ex.Message);
        Assert.StartsWith($"{r.Errors.Count} configuration errors:", ex.Message);
    }

    [Fact]
    public void Error_format_is_file_line_column_field_message()
    {
        Assert.Equal("configs/cameras/demo.yaml:14:7: cameras[2].latitude: must be between -90 and 90 (got 123.4)",
            new ConfigError("configs/cameras/demo.yaml", 14, 7, "cameras[2].latitude", "must be between -90 and 90 (got 123.4)").ToString());
        Assert.Equal("a.yaml:3:1: YAML syntax error: x", new ConfigError("a.yaml", 3, 1, "", "YAML syntax error: x").ToString());
        Assert.Equal("a.yaml: file not found", new ConfigError("a.yaml", 0, 0, "", "file not found").ToString());
    }
}
