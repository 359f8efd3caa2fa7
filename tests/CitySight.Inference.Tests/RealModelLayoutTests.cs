using CitySight.Domain;
using CitySight.Imaging;
using CitySight.Tests;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace CitySight.Inference.Tests;

/// <summary>
/// Each real model through a bare InferenceSession, its decoder picked by auto detection: checks both the
/// layout detection and the decode maths (a wrong grid, stride or activation finds no sensible bus).
/// </summary>
public class RealModelLayoutTests(ITestOutputHelper log)
{
    private const int BusClass = 5;
    private const int PersonClass = 0;

    // yolov8n-coco-int8's bus on bus.jpg (810x1080) in source pixels, as this test logs it (yolox-nano:
    // [14,231,801,733], IoU 0.91 with it; fastestdet: [17,167,810,795], IoU 0.82).
    private static readonly Box ReferenceBus = new(34, 230, 798, 767);

    private static readonly ModelManifest Manifest = ModelManifest.Load(Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml"));

    [Theory]
    [InlineData("yolov8n-coco-int8", OutputLayout.YoloV8, 3)]
    [InlineData("yolox-nano-coco", OutputLayout.Yolox, 3)]
    [InlineData("fastestdet-coco", OutputLayout.FastestDet, 3)]
    public void Finds_the_bus_on_bus_jpg_with_the_auto_detected_layout(string model, OutputLayout layout, int minPersons)
    {
        var spec = Manifest.Get(model);
        using var frame = EvidenceImage.LoadFrame(TestAssets.Media("bus.jpg"), "test");

        var (decoder, found) = Detect(spec, frame, batch: 1)[0];

        Assert.Equal(layout, decoder.Layout);
        foreach (var d in found)
            log.WriteLine($"{spec.Classes[d.ClassId]} {d.Score:F3} [{d.Box.X1:F0},{d.Box.Y1:F0},{d.Box.X2:F0},{d.Box.Y2:F0}] IoU(ref bus) {d.Box.IoU(ReferenceBus):F2}");
        var bus = found.Where(d => d.ClassId == BusClass).OrderByDescending(d => d.Score).FirstOrDefault();
        Assert.True(bus.Score > 0, $"{model}: no bus found");
        Assert.True(bus.Box.IoU(ReferenceBus) > 0.5f, $"{model}: bus box {bus.Box} misses the bus {ReferenceBus} (IoU {bus.Box.IoU(ReferenceBus):F2})");
        Assert.True(found.Count(d => d.ClassId == PersonClass) >= minPersons, $"{model}: fewer than {minPersons} persons");
    }

    [Fact]
    public void A_dynamic_batch_output_decodes_image_by_image_with_the_batch_1_decoder()
    {
        var spec = Manifest.Get("yolox-nano-coco-dynbatch");
        using var frame = EvidenceImage.LoadFrame(TestAssets.Media("bus.jpg"), "test");

        var single = Detect(Manifest.Get("yolox-nano-coco"), frame, batch: 1)[0].Found;
        var batch = Detect(spec, frame, batch: 3);

        Assert.Equal(3, batch.Count);
        Assert.All(batch, b => Assert.Equal(OutputLayout.Yolox, b.Decoder.Layout));
        Assert.NotEmpty(single);
        foreach (var (_, found) in batch)
        {
            Assert.Equal(single.Count, found.Count);
            for (var i = 0; i < single.Count; i++)
            {
                Assert.Equal(single[i].ClassId, found[i].ClassId);
                Assert.Equal(single[i].Score, found[i].Score, 4);
                Assert.True(single[i].Box.IoU(found[i].Box) > 0.99f);
            }
        }
    }

    /// <summary>Runs <paramref name="batch"/> copies of the frame; per image: the decoder and NMS survivors in source pixels.</summary>
    private static List<(IOutputDecoder Decoder, List<Candidate> Found)> Detect(ModelSpec spec, Frame frame, int batch)
    {
        using var session = new InferenceSession(TestAssets.Model(spec.File));
        using var letterboxer = new Letterboxer(spec.Input);
        var one = spec.Input.TensorLength;
        var input = new float[one * batch];
        LetterboxTransform transform = default;
        for (var b = 0; b < batch; b++)
            transform = letterboxer.Process(frame.Bgr, frame.Width, frame.Height, input.AsSpan(b * one, one));

        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, [batch, 3, spec.Input.Height, spec.Input.Width]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [session.InputNames[0]], [inputValue], [session.OutputNames[0]]);
        var output = outputs[0];
        var shape = output.GetTensorTypeAndShape().Shape;
        Assert.Equal(batch, shape[0]);
        shape[0] = 1;
        var data = output.GetTensorDataAsSpan<float>();

        var result = new List<(IOutputDecoder, List<Candidate>)>();
        for (var b = 0; b < batch; b++)
        {
            var decoder = OutputDecoders.Create(OutputLayout.Auto, shape, spec.Classes.Count, spec.Input.Width, spec.Input.Height, session.OutputNames[0]);
            Assert.Equal(data.Length, decoder.OutputLength * batch);
            var candidates = new List<Candidate>();
            decoder.Decode(data.Slice(b * decoder.OutputLength, decoder.OutputLength), spec.Confidence, candidates);
            var kept = new List<Candidate>();
            Nms.Apply(candidates, spec.NmsIou, spec.MaxDetections, kept);
            result.Add((decoder, kept.Select(k => k with { Box = transform.ToSource(k.Box) }).ToList()));
        }
        return result;
    }
}
