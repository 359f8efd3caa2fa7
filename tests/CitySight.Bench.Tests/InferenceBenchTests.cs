using System.Text.Json;
using CitySight.Tests;
using OpenCvSharp;

namespace CitySight.Bench.Tests;

/// <summary>
/// `citysight bench` as a user runs it (a real process, stdout/stderr redirected as in CI): the real pipeline against
/// bare session.Run on the shared models and media, kept small (a few dozen frames) so each run takes seconds.
/// </summary>
public class InferenceBenchTests
{
    private static readonly string[] RequiredFields =
        ["device", "provider", "provider_requested", "fallback_reason", "model", "source", "streams", "threads", "batch", "sessions",
         "pipeline_fps", "bare_fps", "ratio", "latency_ms", "mean_batch_fill", "cpu_percent", "frames", "runs"];

    private static Task<(int Code, string Out, string Err)> Citysight(params string[] args) =>
        CitysightProcess.RunAsync(TimeSpan.FromSeconds(180), args);

    /// <summary>A folder holding links to bus.jpg and the COCO samples.</summary>
    private static string ImageFolder()
    {
        var dir = TestAssets.TempDir("bench-images");
        foreach (var name in new[] { "bus.jpg", "coco-sample-0.jpg", "coco-sample-1.jpg", "coco-sample-2.jpg", "coco-sample-3.jpg", "coco-sample-4.jpg" })
            File.CreateSymbolicLink(Path.Combine(dir, name), TestAssets.Media(name));
        return dir;
    }

    private static JsonElement ReadJson(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;

    private static void AssertRecord(JsonElement r)
    {
        var pipeline = r.GetProperty("pipeline_fps").GetDouble();
        var bare = r.GetProperty("bare_fps").GetDouble();
        Assert.True(pipeline > 0, $"pipeline_fps {pipeline}");
        Assert.True(bare > 0, $"bare_fps {bare}");
        Assert.InRange(r.GetProperty("ratio").GetDouble(), pipeline / bare - 1e-3, pipeline / bare + 1e-3);
        var latency = r.GetProperty("latency_ms");
        double p50 = latency.GetProperty("p50").GetDouble(), p95 = latency.GetProperty("p95").GetDouble(), p99 = latency.GetProperty("p99").GetDouble();
        Assert.True(p50 > 0 && p50 <= p95 && p95 <= p99, $"p50 {p50}, p95 {p95}, p99 {p99}");
        Assert.InRange(r.GetProperty("mean_batch_fill").GetDouble(), 0.0, 1.0);
        Assert.True(r.GetProperty("cpu_percent").GetDouble() > 0);
    }

    [Fact]
    public async Task Bench_over_a_folder_of_images_writes_json_with_every_field_per_batch_size_and_a_png_chart()
    {
        var images = ImageFolder();
        var outDir = TestAssets.TempDir("bench-out");
        var json = Path.Combine(outDir, "bench.json");
        var png = Path.Combine(outDir, "bench.png");

        var (code, stdout, stderr) = await Citysight("bench", "--source", images, "--model", "yolox-nano-coco-dynbatch",
            "--streams", "2", "--batch", "1,2", "--frames", "24", "--rounds", "2", "--json", json, "--chart", png);

        Assert.True(code == 0, stderr);
        var root = ReadJson(json);
        foreach (var field in RequiredFields) Assert.True(root.TryGetProperty(field, out _), $"JSON lacks {field}: {root}");
        Assert.Equal("yolox-nano-coco-dynbatch", root.GetProperty("model").GetString());
        Assert.Equal("CPUExecutionProvider", root.GetProperty("provider").GetString());
        Assert.StartsWith("CPU: ", root.GetProperty("device").GetString());
        Assert.Equal(2, root.GetProperty("streams").GetInt32());
        AssertRecord(root);

        var runs = root.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal([1, 2], runs.Select(r => r.GetProperty("batch").GetInt32()));
        foreach (var r in runs)
        {
            foreach (var field in RequiredFields.Where(f => f != "runs")) Assert.True(r.TryGetProperty(field, out _), $"run lacks {field}");
            AssertRecord(r);
            Assert.Equal(1, r.GetProperty("sessions").GetInt32()); // a dynamic batch: one session takes the whole batch
            Assert.Equal(24, r.GetProperty("frames").GetInt32());
            Assert.Equal(2, r.GetProperty("rounds").GetInt32()); // pipeline, pause, bare, resume, pipeline, bare
        }
        // The top level is the run with the best pipeline frames/s.
        Assert.Equal(runs.Max(r => r.GetProperty("pipeline_fps").GetDouble()), root.GetProperty("pipeline_fps").GetDouble());

        using var chart = Cv2.ImRead(png);
        Assert.False(chart.Empty(), "the chart PNG does not decode");
        Assert.True(chart.Width >= 800 && chart.Height >= 300, $"chart {chart.Width}x{chart.Height}");

        // The table on stdout: one row per batch size.
        Assert.Contains("frames/s", stdout);
        Assert.Contains("ratio", stdout);
        Assert.Contains("yolox-nano-coco-dynbatch", stdout);
    }

    [Fact]
    public async Task Bench_over_a_video_with_a_fixed_batch_model_runs_sessions_in_parallel_instead_of_batching()
    {
        var outDir = TestAssets.TempDir("bench-video");
        var json = Path.Combine(outDir, "bench.json");

        var (code, _, stderr) = await Citysight("bench", "--source", TestAssets.Media("parking-lot-cctv-640x480.mp4"),
            "--model", "yolox-nano-coco", "--streams", "2", "--batch", "2", "--frames", "16", "--rounds", "2", "--json", json);

        Assert.True(code == 0, stderr);
        var root = ReadJson(json);
        Assert.Equal("video", root.GetProperty("source_kind").GetString());
        Assert.Equal(2, root.GetProperty("batch").GetInt32());
        Assert.Equal(2, root.GetProperty("sessions").GetInt32());
        Assert.Equal(1, root.GetProperty("batch_capacity").GetInt32());
        Assert.False(root.GetProperty("dynamic_batch").GetBoolean());
        AssertRecord(root);
    }

    [Fact]
    public async Task Bench_on_cuda_in_this_cpu_only_build_runs_on_the_cpu_and_says_why()
    {
        var outDir = TestAssets.TempDir("bench-cuda");
        var json = Path.Combine(outDir, "bench.json");

        var (code, stdout, stderr) = await Citysight("bench", "--source", ImageFolder(), "--model", "yolox-nano-coco-dynbatch",
            "--provider", "cuda", "--streams", "1", "--batch", "1", "--frames", "8", "--json", json);

        Assert.True(code == 0, stderr);
        var root = ReadJson(json);
        Assert.Equal("CPUExecutionProvider", root.GetProperty("provider").GetString());
        Assert.Equal("cuda", root.GetProperty("provider_requested").GetString());
        Assert.Contains("CUDA", root.GetProperty("fallback_reason").GetString());
        Assert.StartsWith("CPU: ", root.GetProperty("device").GetString());
        // Visible in the table too, not only in the JSON.
        Assert.Contains("cuda requested", stdout);
    }

    [Fact]
    public async Task Bench_with_a_missing_source_exits_2_naming_the_path()
    {
        var missing = Path.Combine(TestAssets.TempDir("bench-missing"), "no-such-clip.mp4");

        var (code, _, stderr) = await Citysight("bench", "--source", missing, "--model", "yolox-nano-coco-dynbatch");

        Assert.Equal(2, code);
        Assert.Contains(missing, stderr);
        Assert.DoesNotContain("   at ", stderr); // one line, no stack trace
    }

    [Fact]
    public async Task Bench_with_an_unknown_model_exits_2_naming_the_model()
    {
        var (code, _, stderr) = await Citysight("bench", "--source", TestAssets.Media("bus.jpg"), "--model", "no-such-model");

        Assert.Equal(2, code);
        Assert.Contains("no-such-model", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public async Task Bench_never_prints_the_password_of_an_rtsp_url()
    {
        // Nothing listens on port 1: the source fails at once, and the message shows the URL redacted.
        var (code, stdout, stderr) = await Citysight("bench", "--source", "rtsp://admin:hunter2@127.0.0.1:1/cam", "--model", "yolox-nano-coco-dynbatch",
            "--frames", "8");

        Assert.Equal(2, code);
        Assert.Contains("rtsp://admin:***@127.0.0.1:1/cam", stderr);
        Assert.DoesNotContain("hunter2", stdout + stderr);
    }
}
