using System.Text.Json;
using CitySight.Tests;

namespace CitySight.Cli.Tests;

/// <summary>The citysight command as a user runs it: a real process, its exit code, stdout and stderr.</summary>
public class CliTests
{
    private static Task<(int Code, string Out, string Err)> Citysight(params string[] args) =>
        CitysightProcess.RunAsync(TimeSpan.FromSeconds(120), args);

    [Fact]
    public async Task Detect_lists_the_bus_and_the_people_in_bus_jpg_as_json_lines()
    {
        var (code, stdout, stderr) = await Citysight("detect", TestAssets.Media("bus.jpg"));
        Assert.True(code == 0, stderr);
        var detections = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var bus = Assert.Single(detections, d => d.GetProperty("class").GetString() == "bus");
        Assert.True(bus.GetProperty("confidence").GetSingle() > 0.5f);
        Assert.Equal("illegal_parking", bus.GetProperty("case_type").GetString());
        var box = bus.GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.True(box[0] < box[2] && box[1] < box[3] && box[2] <= 810 && box[3] <= 1080, "bus box in source pixels of the 810x1080 image");
        Assert.True(detections.Count(d => d.GetProperty("class").GetString() == "person" && d.GetProperty("confidence").GetSingle() > 0.5f) >= 3);
    }

    [Fact]
    public async Task Validate_rejects_an_invalid_config_with_file_line_and_field_and_never_prints_the_password()
    {
        var dir = TestAssets.TempDir("cli-bad");
        Directory.CreateDirectory(Path.Combine(dir, "cameras"));
        File.WriteAllText(Path.Combine(dir, "citysight.yaml"), "service:\n  grpc_port: 50051\n");
        File.WriteAllText(Path.Combine(dir, "cameras", "street.yaml"),
            "group:\n  id: g\n  name: G\ncameras:\n  - id: cam-1\n    name: c\n    url: rtsp://admin:hunter2@10.0.0.9/live\n    latitude: 123.0\n    longitude: 121.4\n    detectors: [illegal_parking]\n");

        var (code, stdout, stderr) = await Citysight("validate", Path.Combine(dir, "citysight.yaml"));

        Assert.NotEqual(0, code);
        Assert.Contains("street.yaml:8:", stderr);
        Assert.Contains("cameras[0].latitude", stderr);
        Assert.DoesNotContain("hunter2", stdout + stderr);
    }

    [Fact]
    public async Task Probe_by_camera_id_takes_the_url_from_the_configuration_and_names_an_unknown_camera()
    {
        var dir = TestAssets.TempDir("cli-probe");
        Directory.CreateDirectory(Path.Combine(dir, "cameras"));
        File.WriteAllText(Path.Combine(dir, "citysight.yaml"), "service:\n  data_dir: data\n");
        File.WriteAllText(Path.Combine(dir, "cameras", "street.yaml"),
            $"group:\n  id: g\n  name: G\ncameras:\n  - id: lot\n    name: Lot\n    url: {TestAssets.Media("parking-lot-cctv-640x480.mp4")}\n" +
            "    latitude: 31.2\n    longitude: 121.4\n    detectors: [illegal_parking]\n");
        var config = Path.Combine(dir, "citysight.yaml");

        var (code, stdout, stderr) = await Citysight("probe", "--camera", "lot", "--config", config, "--json");
        Assert.True(code == 0, stderr);
        var probe = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("lot", probe.GetProperty("camera").GetString());
        Assert.Equal((640, 480), (probe.GetProperty("width").GetInt32(), probe.GetProperty("height").GetInt32()));

        (code, _, stderr) = await Citysight("probe", "--camera", "gate", "--config", config);
        Assert.Equal(2, code);
        Assert.Contains("no camera 'gate'", stderr);

        (code, _, stderr) = await Citysight("probe");
        Assert.Equal(2, code);
        Assert.Contains("either a URL or --camera", stderr);
    }

    [Fact]
    public async Task Validate_accepts_the_shipped_configuration()
    {
        var (code, stdout, stderr) = await Citysight("validate", Path.Combine(TestAssets.RepoRoot, "configs", "citysight.yaml"));
        Assert.True(code == 0, stderr);
        Assert.Contains("valid", stdout);
    }

    [Fact]
    public async Task Run_without_a_model_file_stops_and_says_where_to_get_one_and_where_to_put_it()
    {
        var dir = TestAssets.TempDir("cli-nomodel");
        File.WriteAllText(Path.Combine(dir, "citysight.yaml"),
            $"service:\n  data_dir: data\nmodels:\n  manifest: {Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml")}\n  search_paths: [empty-models]\n");
        Directory.CreateDirectory(Path.Combine(dir, "empty-models"));

        var (code, _, stderr) = await Citysight("run", "--config", Path.Combine(dir, "citysight.yaml"));

        Assert.NotEqual(0, code);
        Assert.Contains("yolov8n-coco-int8.onnx", stderr);
        Assert.Contains("empty-models", stderr);
        Assert.Contains("export", stderr);
    }

    [Fact]
    public async Task Run_with_a_model_that_does_not_fit_its_manifest_entry_stops_and_says_what_was_expected()
    {
        var dir = TestAssets.TempDir("cli-oddmodel");
        // A real model file declared with 3 classes: its [1,85,22,22] output fits no layout for 3.
        File.WriteAllText(Path.Combine(dir, "manifest.yaml"), """
            models:
              - name: odd
                file: fastestdet-coco.onnx
                input: { width: 352, height: 352, colour: bgr, scale: 1/255, resize: stretch }
                classes: [stall, garbage, billboard]
            """);
        File.WriteAllText(Path.Combine(dir, "citysight.yaml"),
            $"service:\n  data_dir: data\nmodels:\n  manifest: manifest.yaml\n  search_paths: [{Path.Combine(TestAssets.Root, "models")}]\n  run:\n    - model: odd\n");

        var (code, _, stderr) = await Citysight("run", "--config", Path.Combine(dir, "citysight.yaml"));

        Assert.NotEqual(0, code);
        Assert.Contains("cannot start", stderr);
        Assert.Contains("model 'odd'", stderr);
        Assert.Contains("[1,85,22,22]", stderr);
        Assert.Contains("3 classes", stderr);
    }
}
