using System.Diagnostics;
using CitySight.Imaging;
using CitySight.Tests;
using Xunit.Abstractions;

namespace CitySight.Inference.Tests;

/// <summary>One yolov8n session shared by the real-model tests: loading it takes longer than running it.</summary>
public sealed class Yolov8nFixture : IDisposable
{
    public Yolov8nFixture()
    {
        Spec = ModelManifest.Load(Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml")).Get("yolov8n-coco-int8");
        ModelPath = ModelLocator.Locate(Spec, [Path.GetDirectoryName(TestAssets.Model(Spec.File))!]);
        Detector = new OnnxDetector(Spec, ModelPath);
    }

    public ModelSpec Spec { get; }
    public string ModelPath { get; }
    public OnnxDetector Detector { get; }

    public void Dispose() => Detector.Dispose();
}

public class OnnxDetectorTests(Yolov8nFixture model, ITestOutputHelper output) : IClassFixture<Yolov8nFixture>
{
    [Fact]
    public void Reports_what_it_found_in_the_model()
    {
        var d = model.Detector;
        Assert.Equal(OutputLayout.YoloV8, d.OutputLayout);
        Assert.Equal("images", d.InputName);
        Assert.Equal((640, 640), (d.InputWidth, d.InputHeight));
        Assert.Equal([1L, 84, 8400], d.OutputShape);
    }

    [Fact]
    public void Finds_the_bus_and_the_people_on_bus_jpg()
    {
        using var frame = EvidenceImage.LoadFrame(TestAssets.Media("bus.jpg"), "cam");

        var found = model.Detector.Detect(frame);
        var times = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var sw = Stopwatch.StartNew();
            model.Detector.Detect(frame);
            times.Add(sw.Elapsed.TotalMilliseconds);
        }

        foreach (var d in found)
            output.WriteLine($"{d.ClassName} {d.Confidence:F3} [{d.Box.X1:F0},{d.Box.Y1:F0},{d.Box.X2:F0},{d.Box.Y2:F0}] case={d.CaseType ?? "-"}");
        output.WriteLine($"ms/frame (5 runs): {string.Join(", ", times.Select(t => t.ToString("F1")))}; median {times.Order().ElementAt(2):F1}");

        var bus = Assert.Single(found, d => d.ClassName == "bus");
        Assert.True(bus.Confidence > 0.5f, $"bus confidence {bus.Confidence}");
        Assert.Equal("illegal_parking", bus.CaseType);
        // The bus spans most of the picture's width.
        Assert.True(bus.Box.Width > 0.7f * frame.Width, $"bus box {bus.Box}");

        var persons = found.Where(d => d.ClassName == "person").ToList();
        Assert.True(persons.Count >= 3, $"{persons.Count} persons");
        Assert.All(persons, p => Assert.Null(p.CaseType));
        Assert.All(persons, p => Assert.Equal(0, p.ClassId));

        Assert.All(found, d =>
        {
            Assert.InRange(d.Box.X1, 0, frame.Width);
            Assert.InRange(d.Box.X2, d.Box.X1, frame.Width);
            Assert.InRange(d.Box.Y1, 0, frame.Height);
            Assert.InRange(d.Box.Y2, d.Box.Y1, frame.Height);
            Assert.True(d.Confidence > model.Spec.Confidence);
        });
        Assert.Equal(found.OrderByDescending(d => d.Confidence), found);
    }

    [Fact]
    public void Reused_buffers_carry_nothing_over_between_frames_of_different_sizes()
    {
        using var bus = EvidenceImage.LoadFrame(TestAssets.Media("bus.jpg"), "cam");
        using var other = EvidenceImage.LoadFrame(TestAssets.Media("coco-sample-2.jpg"), "cam");
        Assert.NotEqual((bus.Width, bus.Height), (other.Width, other.Height));

        var first = model.Detector.Detect(bus);
        var between = model.Detector.Detect(other);
        var again = model.Detector.Detect(bus.Bgr, bus.Width, bus.Height);

        Assert.NotEmpty(between);
        Assert.Equal(first, again);
    }

    [Fact]
    public void Counts_frames_and_times_them_in_prometheus()
    {
        var frames = InferenceMetrics.FramesInferred.WithLabels(model.Spec.Name);
        var seconds = InferenceMetrics.InferenceSeconds.WithLabels(model.Spec.Name);
        using var frame = EvidenceImage.LoadFrame(TestAssets.Media("bus.jpg"), "cam");
        var count = frames.Value;
        var observed = seconds.Count;

        model.Detector.Detect(frame);
        model.Detector.Detect(frame);

        // Other tests share the detector, so they may add more in parallel; never fewer.
        Assert.True(frames.Value >= count + 2);
        Assert.True(seconds.Count >= observed + 2);
        Assert.True(seconds.Sum > 0);
    }

    [Fact]
    public void A_model_whose_class_count_does_not_fit_is_refused_at_construction()
    {
        var wrong = model.Spec with { Classes = ["person", "car", "bus"], CaseTypes = new Dictionary<string, IReadOnlyList<string>>() };

        var ex = Assert.Throws<ModelMismatchException>(() => new OnnxDetector(wrong, model.ModelPath));

        Assert.Contains("[1,84,8400]", ex.Message);
        Assert.Contains("[1, 7, N]", ex.Message);
        Assert.Contains(model.Spec.Name, ex.Message);
    }

    [Fact]
    public void A_model_whose_input_size_does_not_fit_is_refused_at_construction()
    {
        var wrong = model.Spec with { Input = model.Spec.Input with { Width = 416, Height = 416 } };

        var ex = Assert.Throws<ModelMismatchException>(() => new OnnxDetector(wrong, model.ModelPath));

        Assert.Contains("[1,3,640,640]", ex.Message);
        Assert.Contains("416", ex.Message);
    }
}

public class ModelFileTests
{
    [Fact]
    public void A_file_that_is_not_an_onnx_model_is_refused_with_its_path()
    {
        var spec = ModelManifest.Load(Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml")).Get("yolox-nano-coco");
        var dir = TestAssets.TempDir("bad-model");
        var path = Path.Combine(dir, "truncated.onnx");
        // The first 64 kB of a real model: what an interrupted download leaves behind.
        File.WriteAllBytes(path, File.ReadAllBytes(TestAssets.Model(spec.File)).AsSpan(0, 65536).ToArray());

        var ex = Assert.Throws<ModelMismatchException>(() => new OnnxDetector(spec, path));

        Assert.Contains($"model '{spec.Name}'", ex.Message);
        Assert.Contains("could not load " + path, ex.Message);
    }

    [Fact]
    public void An_output_that_fits_no_layout_for_the_declared_classes_is_explained()
    {
        var spec = ModelManifest.Load(Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml")).Get("fastestdet-coco");
        // fastestdet's output is [1,85,22,22]; declaring 3 classes makes it fit no layout.
        var wrong = spec with { Classes = ["a", "b", "c"], CaseTypes = new Dictionary<string, IReadOnlyList<string>>(), ClassConfidence = new Dictionary<string, float>() };

        var ex = Assert.Throws<ModelMismatchException>(() => new OnnxDetector(wrong, TestAssets.Model(spec.File)));

        Assert.Contains("[1,85,22,22]", ex.Message);
        Assert.Contains("3 classes", ex.Message);
    }
}
