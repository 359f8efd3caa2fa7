using CitySight.Imaging;
using CitySight.Tests;

namespace CitySight.Inference.Tests;

public class ManifestTests
{
    private const string Valid = """
        models:
          - name: tiny
            file: tiny.onnx
            input: { width: 320, height: 256, colour: bgr, scale: 1, resize: letterbox_topleft }
            output: { layout: yolov5 }
            confidence: 0.3
            classes: [person, car, bus, dog]
            case_types:
              illegal_parking: [car, bus]
          - name: other
            file: other.onnx
            input: { width: 640, height: 640, colour: rgb, scale: 1/255, resize: stretch, pad: 0 }
            classes: [a]
        default: other
        """;

    private static ManifestException Fails(string yaml, string file = "test-manifest.yaml")
    {
        var dir = TestAssets.TempDir("manifest");
        var path = Path.Combine(dir, file);
        File.WriteAllText(path, yaml);
        return Assert.Throws<ManifestException>(() => ModelManifest.Load(path));
    }

    private static string Replace(string from, string to)
    {
        Assert.Contains(from, Valid);
        return Valid.Replace(from, to);
    }

    [Fact]
    public void Reads_every_field()
    {
        var m = ModelManifest.Parse(Valid, "inline");

        Assert.Equal(["tiny", "other"], m.Models.Select(x => x.Name));
        Assert.Equal("other", m.Default.Name);
        var tiny = m.Get("tiny");
        Assert.Equal("tiny.onnx", tiny.File);
        Assert.Null(tiny.Sha256);
        Assert.Equal(new PreprocessSpec(320, 256, ResizeMode.LetterboxTopLeft, ChannelOrder.Bgr, 1f, 114), tiny.Input);
        Assert.Equal(OutputLayout.YoloV5, tiny.Layout);
        Assert.Equal(0.3f, tiny.Confidence);
        Assert.Equal(0.45f, tiny.NmsIou);
        Assert.Equal(["person", "car", "bus", "dog"], tiny.Classes);
        Assert.Equal(new string?[] { null, "illegal_parking", "illegal_parking", null }, tiny.CaseTypeByClassId());

        var other = m.Get("other");
        Assert.Equal(1f / 255, other.Input.Scale, 7);
        Assert.Equal(ResizeMode.Stretch, other.Input.Resize);
        Assert.Equal(0, other.Input.Pad);
        Assert.Equal(OutputLayout.Auto, other.Layout);
    }

    [Fact]
    public void The_repository_manifest_declares_the_default_coco_model()
    {
        var m = ModelManifest.Load(Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml"));
        var spec = m.Default;

        Assert.Equal("yolov8n-coco-int8", spec.Name);
        var coco = File.ReadAllLines(Path.Combine(TestAssets.Root, "models", "coco80.names")).Where(l => l.Length > 0);
        Assert.Equal(coco, spec.Classes);
        Assert.Equal(new PreprocessSpec(640, 640, ResizeMode.Letterbox, ChannelOrder.Rgb, 1f / 255, 114), spec.Input);
        var parking = spec.CaseTypes["illegal_parking"];
        Assert.Equal(["car", "bus", "truck", "motorbike"], parking);
    }

    [Fact]
    public void The_repository_manifest_declares_every_shared_model_with_its_input()
    {
        var m = ModelManifest.Load(Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml"));
        var coco = File.ReadAllLines(Path.Combine(TestAssets.Root, "models", "coco80.names")).Where(l => l.Length > 0).ToArray();

        Assert.Equal(["yolov8n-coco-int8", "yolox-nano-coco", "yolox-nano-coco-dynbatch", "fastestdet-coco"], m.Models.Select(x => x.Name));
        var yolox = new PreprocessSpec(416, 416, ResizeMode.LetterboxTopLeft, ChannelOrder.Bgr, 1f, 114);
        Assert.Equal(yolox, m.Get("yolox-nano-coco").Input);
        Assert.Equal(yolox, m.Get("yolox-nano-coco-dynbatch").Input);
        var fastest = m.Get("fastestdet-coco").Input;
        Assert.Equal((352, 352, ResizeMode.Stretch, ChannelOrder.Bgr), (fastest.Width, fastest.Height, fastest.Resize, fastest.Channels));
        Assert.Equal(1f / 255, fastest.Scale, 7);
        foreach (var spec in m.Models)
        {
            Assert.Equal(coco, spec.Classes);
            Assert.Equal(["car", "bus", "truck", "motorbike"], spec.CaseTypes["illegal_parking"]);
            // The declared hash is the shared file's: ModelLocator refuses the model otherwise.
            Assert.Equal(spec.Sha256, ModelLocator.Sha256Of(TestAssets.Model(spec.File)));
        }
    }

    [Fact]
    public void A_missing_field_names_file_model_field_and_line()
    {
        var ex = Fails(Replace("width: 320, ", ""));

        Assert.Equal("tiny", ex.Model);
        Assert.Equal("input.width", ex.Field);
        Assert.Equal(4, ex.Line); // the input: mapping
        Assert.Contains("test-manifest.yaml:4:", ex.Message);
        Assert.Contains("model 'tiny'", ex.Message);
        Assert.Contains("input.width", ex.Message);
        Assert.Contains("missing", ex.Message);
    }

    [Fact]
    public void An_unknown_layout_is_refused_with_the_choices()
    {
        var ex = Fails(Replace("layout: yolov5", "layout: yolov7"));

        Assert.Equal("output.layout", ex.Field);
        Assert.Equal(5, ex.Line);
        Assert.Contains("'yolov7'", ex.Message);
        Assert.Contains("auto, yolov8 (also yolo11), yolov5, yolox, fastestdet or end2end (also yolov10)", ex.Message);
    }

    [Theory]
    [InlineData("auto", OutputLayout.Auto)]
    [InlineData("yolov8", OutputLayout.YoloV8)]
    [InlineData("YOLO11", OutputLayout.YoloV8)]
    [InlineData("yolov5", OutputLayout.YoloV5)]
    [InlineData("yolox", OutputLayout.Yolox)]
    [InlineData("fastestdet", OutputLayout.FastestDet)]
    [InlineData("end2end", OutputLayout.EndToEnd)]
    [InlineData("yolov10", OutputLayout.EndToEnd)]
    public void Every_layout_name_parses(string name, OutputLayout layout)
    {
        var m = ModelManifest.Parse(Replace("layout: yolov5", $"layout: {name}"), "inline");
        Assert.Equal(layout, m.Get("tiny").Layout);
    }

    [Fact]
    public void Class_confidence_overrides_the_model_confidence_per_class()
    {
        var m = ModelManifest.Parse(Replace("confidence: 0.3\n", "confidence: 0.3\n    class_confidence: { car: 0.6, dog: 0.1 }\n"), "inline");
        var tiny = m.Get("tiny");

        Assert.Equal(new Dictionary<string, float> { ["car"] = 0.6f, ["dog"] = 0.1f }, tiny.ClassConfidence);
        Assert.Equal([0.3f, 0.6f, 0.3f, 0.1f], tiny.ConfidenceByClassId());
        Assert.Equal(0.1f, tiny.MinConfidence);

        var other = m.Get("other");
        Assert.Empty(other.ClassConfidence);
        Assert.Equal([0.25f], other.ConfidenceByClassId());
        Assert.Equal(0.25f, other.MinConfidence);
    }

    [Fact]
    public void Min_confidence_follows_with_expressions()
    {
        var spec = ModelManifest.Parse(Valid, "inline").Get("tiny") with { ClassConfidence = new Dictionary<string, float> { ["bus"] = 0.5f } };
        Assert.Equal(0.3f, spec.MinConfidence);
        Assert.Equal(0.2f, (spec with { Confidence = 0.2f }).MinConfidence);
        Assert.Equal(0.05f, (spec with { ClassConfidence = new Dictionary<string, float> { ["dog"] = 0.05f } }).MinConfidence);
    }

    [Fact]
    public void Class_confidence_for_an_unknown_class_is_refused_with_its_line()
    {
        var ex = Fails(Replace("confidence: 0.3\n", "confidence: 0.3\n    class_confidence:\n      car: 0.6\n      tram: 0.5\n"));

        Assert.Equal("tiny", ex.Model);
        Assert.Equal("class_confidence", ex.Field);
        Assert.Equal(9, ex.Line);
        Assert.Contains("test-manifest.yaml:9:", ex.Message);
        Assert.Contains("'tram' is not in this model's classes", ex.Message);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("0")]
    [InlineData("high")]
    public void Class_confidence_outside_0_1_is_refused(string value)
    {
        var ex = Fails(Replace("confidence: 0.3\n", $"confidence: 0.3\n    class_confidence: {{ car: {value} }}\n"));

        Assert.Equal("class_confidence.car", ex.Field);
        Assert.Equal(7, ex.Line);
    }

    [Theory]
    [InlineData("colour: bgr", "colour: hsv", "input.colour")]
    [InlineData("resize: stretch", "resize: crop", "input.resize")]
    [InlineData("scale: 1,", "scale: one,", "input.scale")]
    [InlineData("pad: 0", "pad: 300", "input.pad")]
    [InlineData("confidence: 0.3", "confidence: 1.5", "confidence")]
    [InlineData("confidence: 0.3", "confidance: 0.3", "confidance")]
    [InlineData("illegal_parking: [car, bus]", "illegal_parking: [car, tram]", "case_types.illegal_parking")]
    [InlineData("classes: [person, car, bus, dog]", "classes: [person, car, bus, car]", "classes")]
    [InlineData("default: other", "default: nope", "default")]
    public void Bad_values_name_the_field(string from, string to, string field)
    {
        var ex = Fails(Replace(from, to));

        Assert.Equal(field, ex.Field);
        Assert.NotNull(ex.Line);
        Assert.Contains(field, ex.Message);
    }

    [Fact]
    public void A_class_raising_two_case_types_is_refused()
    {
        var ex = Fails(Replace("illegal_parking: [car, bus]", "illegal_parking: [car, bus]\n      street_stall: [person, car]"));

        Assert.Equal("case_types.street_stall", ex.Field);
        Assert.Contains("'car' already maps to case type 'illegal_parking'", ex.Message);
    }

    [Fact]
    public void Broken_yaml_reports_the_line()
    {
        var ex = Fails("models:\n  - name: x\n    file: [unclosed\n");
        Assert.NotNull(ex.Line);
        Assert.Contains("not valid YAML", ex.Message);
    }

    [Fact]
    public void A_missing_manifest_names_the_path()
    {
        var path = Path.Combine(TestAssets.TempDir("manifest"), "nope.yaml");
        var ex = Assert.Throws<ManifestException>(() => ModelManifest.Load(path));
        Assert.Contains(path, ex.Message);
    }
}
