using BenchmarkDotNet.Attributes;
using CitySight.Domain;
using CitySight.Imaging;
using CitySight.Inference;
using CitySight.Tests;

namespace CitySight.Benchmarks;

/// <summary>Decode + class-aware NMS of yolov8n's real [1,84,8400] output on bus.jpg.</summary>
[MemoryDiagnoser]
public class DecodeNmsBenchmarks
{
    private float[] _output = [];
    private readonly YoloV8Decoder _decoder = new(80, 8400);
    private readonly List<Candidate> _candidates = new(1024);
    private readonly List<Candidate> _kept = new(128);

    [GlobalSetup]
    public void Setup() => _output = RealModel.Bus8400();

    [Benchmark]
    public int DecodeAndNms()
    {
        _candidates.Clear();
        _kept.Clear();
        _decoder.Decode(_output, 0.25f, _candidates);
        Nms.Apply(_candidates, 0.45f, 300, _kept);
        return _kept.Count;
    }
}

/// <summary>The whole per-frame path with the default model: letterbox, ONNX run, decode, NMS, map back.</summary>
[MemoryDiagnoser]
public class DetectBenchmarks
{
    private OnnxDetector _detector = null!;
    private Frame _frame = null!;

    [GlobalSetup]
    public void Setup()
    {
        var spec = RealModel.Spec();
        _detector = new OnnxDetector(spec, TestAssets.Model(spec.File));
        _frame = EvidenceImage.LoadFrame(TestAssets.Media("bus.jpg"), "bench");
    }

    [Benchmark]
    public int DetectBusJpg() => _detector.Detect(_frame).Count;

    [GlobalCleanup]
    public void Cleanup()
    {
        _detector.Dispose();
        _frame.Dispose();
    }
}

internal static class RealModel
{
    public static ModelSpec Spec() =>
        ModelManifest.Load(Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml")).Get("yolov8n-coco-int8");

    /// <summary>The model's raw output on bus.jpg, so decode/NMS see a realistic number of candidates.</summary>
    public static float[] Bus8400()
    {
        var spec = Spec();
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(TestAssets.Model(spec.File));
        using var frame = EvidenceImage.LoadFrame(TestAssets.Media("bus.jpg"), "bench");
        using var letterboxer = new Letterboxer(spec.Input);
        var input = new float[letterboxer.TensorLength];
        letterboxer.Process(frame.Bgr, frame.Width, frame.Height, input);
        using var value = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(input, [1, 3, spec.Input.Height, spec.Input.Width]);
        using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
        using var outputs = session.Run(runOptions, [session.InputNames[0]], [value], [session.OutputNames[0]]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
