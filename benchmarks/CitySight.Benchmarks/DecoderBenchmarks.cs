using BenchmarkDotNet.Attributes;
using CitySight.Imaging;
using CitySight.Inference;
using CitySight.Tests;
using Microsoft.ML.OnnxRuntime;

namespace CitySight.Benchmarks;

/// <summary>
/// Output decode + NMS for every layout the shared models have, on each model's real output for bus.jpg (so the
/// candidate counts are realistic). Steady state must allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class LayoutDecodeBenchmarks
{
    private float[] _output = [];
    private IOutputDecoder _decoder = null!;
    private ModelSpec _spec = null!;
    private readonly List<Candidate> _candidates = new(4096);
    private readonly List<Candidate> _kept = new(512);

    [Params("yolov8n-coco-int8", "yolox-nano-coco", "fastestdet-coco")]
    public string Model { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _spec = ModelManifest.Load(Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml")).Get(Model);
        using var session = new InferenceSession(TestAssets.Model(_spec.File));
        using var frame = EvidenceImage.LoadFrame(TestAssets.Media("bus.jpg"), "bench");
        using var letterboxer = new Letterboxer(_spec.Input);
        var input = new float[letterboxer.TensorLength];
        letterboxer.Process(frame.Bgr, frame.Width, frame.Height, input);
        using var value = OrtValue.CreateTensorValueFromMemory(input, [1, 3, _spec.Input.Height, _spec.Input.Width]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [session.InputNames[0]], [value], [session.OutputNames[0]]);
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        _output = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        _decoder = OutputDecoders.Create(_spec.Layout, shape, _spec.Classes.Count, _spec.Input.Width, _spec.Input.Height);
    }

    [Benchmark]
    public int DecodeAndNms()
    {
        _candidates.Clear();
        _kept.Clear();
        _decoder.Decode(_output, _spec.MinConfidence, _candidates);
        Nms.Apply(_candidates, _spec.NmsIou, _spec.MaxDetections, _kept);
        return _kept.Count;
    }
}
