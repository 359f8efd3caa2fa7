using Xunit.Abstractions;
using CitySight.Domain;
using CitySight.Tests;
using Microsoft.ML.OnnxRuntime;

namespace CitySight.Inference.Tests;

public class ProviderTests
{
    private static readonly ModelManifest Manifest = ModelManifest.Load(Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml"));

    [Fact]
    public void Cpu_is_what_this_build_has()
    {
        Assert.Contains("CPUExecutionProvider", ExecutionProviders.Available());
        using var options = new SessionOptions();
        var choice = ExecutionProviders.Apply(options, ExecutionProvider.Cpu, 0);
        Assert.Equal(new ProviderChoice(ExecutionProvider.Cpu, ExecutionProvider.Cpu, "CPUExecutionProvider", null), choice);
    }

    [Theory]
    [InlineData(ExecutionProvider.Cuda, "CUDAExecutionProvider", "OnnxRuntimeFlavor=gpu")]
    [InlineData(ExecutionProvider.TensorRt, "TensorrtExecutionProvider", "OnnxRuntimeFlavor=gpu")]
    [InlineData(ExecutionProvider.OpenVino, "OpenVINOExecutionProvider", "OnnxRuntimeFlavor=openvino")]
    public void A_provider_missing_from_the_build_falls_back_to_cpu_and_says_how_to_get_it(ExecutionProvider requested, string name, string buildSwitch)
    {
        var spec = Manifest.Get("fastestdet-coco");
        using var detector = new OnnxDetector(spec, TestAssets.Model(spec.File), new DetectorOptions { Provider = requested });

        Assert.Equal(requested, detector.Provider.Requested);
        Assert.Equal(ExecutionProvider.Cpu, detector.Provider.Running);
        Assert.Equal("CPUExecutionProvider", detector.Provider.OrtName);
        Assert.True(detector.Provider.FellBack);
        Assert.Contains(name, detector.Provider.FallbackReason);
        Assert.Contains(buildSwitch, detector.Provider.FallbackReason);
        Assert.Contains("running on CPU instead", detector.Provider.FallbackReason);
        // And it still detects.
        using var bus = CitySight.Imaging.EvidenceImage.LoadFrame(TestAssets.Media("bus.jpg"), "cam");
        Assert.Contains(detector.Detect(bus), d => d.ClassName == "bus");
    }

    [Fact]
    public void A_provider_that_is_listed_but_fails_to_start_falls_back_with_its_error()
    {
        // Claim CUDA is there: this CPU-only build then refuses to add it, which is the path a GPU box with a
        // broken driver takes.
        using var options = new SessionOptions();
        var choice = ExecutionProviders.Apply(options, ExecutionProvider.Cuda, 0, ["CUDAExecutionProvider", "CPUExecutionProvider"]);

        Assert.Equal(ExecutionProvider.Cpu, choice.Running);
        Assert.StartsWith("CUDAExecutionProvider failed to start: ", choice.FallbackReason);
    }
}

public class SteadyStateTests(ITestOutputHelper output)
{
    [Fact]
    public void A_frame_costs_no_more_than_its_own_result_once_warm()
    {
        var spec = ModelManifest.Load(Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml")).Get("fastestdet-coco");
        using var detector = new OnnxDetector(spec, TestAssets.Model(spec.File));
        using var bus = CitySight.Imaging.EvidenceImage.LoadFrame(TestAssets.Media("bus.jpg"), "cam");
        var found = detector.Detect(bus);
        for (var i = 0; i < 5; i++) detector.Detect(bus);

        const int runs = 20;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < runs; i++) detector.Detect(bus);
        var perFrame = (GC.GetAllocatedBytesForCurrentThread() - before) / runs;

        output.WriteLine($"{perFrame} B per frame, {found.Count} detections");
        // The result array (24 B header + 40 B per detection) and ONNX Runtime's own per-run bookkeeping;
        // the letterbox, tensors, decode and NMS add nothing.
        Assert.InRange(perFrame, 1, 64 * found.Count + 1024);
    }
}
