using BenchmarkDotNet.Attributes;
using CitySight.Domain;
using CitySight.Inference;
using CitySight.Inference.StaticObjects;
using CitySight.Tests;
using OpenCvSharp;

namespace CitySight.Benchmarks;

/// <summary>
/// One <see cref="StaticObjectDetector.Detect(Frame, ReadOnlySpan{Box})"/> in steady state: the parking-lot clip's
/// first frame (scaled to the case's size) with a textured object left in it long enough to be reported, and two
/// masked boxes (a car, a person), so every step runs: reduce, normalise, compare, update, label, join, report.
/// The baseline is what the frame costs already: the default model (yolov8n, letterbox to NMS) on the same frame, so
/// the ratio column is the share the pass adds to a frame's detection.
/// </summary>
[MemoryDiagnoser]
public class StaticObjectBenchmarks
{
    private StaticObjectDetector _detector = null!;
    private Frame _frame = null!;
    private Box[] _masked = [];
    private OnnxDetector _model = null!;

    [Params("640x480", "1920x1080")]
    public string Size { get; set; } = "640x480";

    [GlobalSetup]
    public unsafe void Setup()
    {
        var parts = Size.Split('x');
        int width = int.Parse(parts[0]), height = int.Parse(parts[1]);
        using var capture = new VideoCapture(TestAssets.Media("parking-lot-cctv-640x480.mp4"));
        using var first = new Mat();
        if (!capture.Read(first) || first.Empty()) throw new InvalidOperationException("no first frame");
        using var scaled = new Mat();
        Cv2.Resize(first, scaled, new OpenCvSharp.Size(width, height), 0, 0, InterpolationFlags.Linear);

        var clear = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
            new ReadOnlySpan<byte>((byte*)scaled.Data + (long)y * scaled.Step(), width * 3).CopyTo(clear.AsSpan(y * width * 3));
        var withObject = (byte[])clear.Clone();
        var rng = new Random(42);
        int ox = width / 2, oy = height * 2 / 3, ow = width / 8, oh = height / 8;
        for (var y = oy; y < oy + oh; y++)
            rng.NextBytes(withObject.AsSpan(y * width * 3 + ox * 3, ow * 3));

        _masked = [new Box(width * 0.1f, height * 0.6f, width * 0.25f, height * 0.75f), new Box(width * 0.8f, height * 0.5f, width * 0.83f, height * 0.6f)];
        _detector = new StaticObjectDetector();
        var start = new DateTimeOffset(2026, 5, 4, 12, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 10; i++)
            _detector.Detect(new Frame("bench", i, start.AddSeconds(10 * i), width, height, clear), _masked);
        for (var i = 10; i < 20; i++)
            _detector.Detect(new Frame("bench", i, start.AddSeconds(10 * i), width, height, withObject), _masked);
        _frame = new Frame("bench", 20, start.AddSeconds(200), width, height, withObject);
        if (_detector.Detect(_frame, _masked).Count != 1) throw new InvalidOperationException("the left object is not reported: not steady state");
        var spec = RealModel.Spec();
        _model = new OnnxDetector(spec, TestAssets.Model(spec.File));
    }

    [Benchmark(Baseline = true)]
    public int ModelOnTheFrame() => _model.Detect(_frame).Count;

    [Benchmark]
    public int Detect() => _detector.Detect(_frame, _masked).Count;

    [GlobalCleanup]
    public void Cleanup() => _model.Dispose();
}
