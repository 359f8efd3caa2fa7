using System.Globalization;
using CitySight.Imaging;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CitySight.Inference;

/// <summary>The models the service may run, read from models/manifest.yaml (format: models/README.md).</summary>
public sealed class ModelManifest
{
    private ModelManifest(string path, IReadOnlyList<ModelSpec> models, ModelSpec @default)
    {
        Path = path;
        Models = models;
        Default = @default;
    }

    /// <summary>The file (or name) the manifest was read from, as given.</summary>
    public string Path { get; }

    public IReadOnlyList<ModelSpec> Models { get; }

    /// <summary>The entry named by top-level <c>default:</c>, else the first entry.</summary>
    public ModelSpec Default { get; }

    public ModelSpec Get(string name) =>
        Models.FirstOrDefault(m => m.Name == name)
        ?? throw new KeyNotFoundException($"{Path}: no model named '{name}'; declared: {string.Join(", ", Models.Select(m => m.Name))}");

    public static ModelManifest Load(string path)
    {
        if (!File.Exists(path))
            throw new ManifestException($"model manifest not found: {path}", path, null, null, null);
        return Parse(File.ReadAllText(path), path);
    }

    /// <param name="sourceName">Used in error messages: normally the file path.</param>
    public static ModelManifest Parse(string yaml, string sourceName) => new Reader(sourceName).Read(yaml);

    private sealed class Reader(string source)
    {
        private static readonly string[] TopKeys = ["models", "default"];
        private static readonly string[] ModelKeys =
            ["name", "file", "sha256", "input", "output", "confidence", "class_confidence", "nms_iou", "max_detections", "classes", "case_types"];
        private static readonly string[] InputKeys = ["width", "height", "colour", "scale", "resize", "pad"];
        private static readonly string[] OutputKeys = ["layout"];

        public ModelManifest Read(string yaml)
        {
            var scanner = new Scanner(new StringReader(yaml));
            var stream = new YamlStream();
            try
            {
                stream.Load(new Parser(scanner));
            }
            catch (YamlException ex)
            {
                var line = (int)ex.Start.Line;
                throw new ManifestException($"{source}:{line}: not valid YAML: {ex.Message}", source, null, null, line, ex);
            }
            catch (InvalidOperationException ex)
            {
                // YamlDotNet 18 throws this, with no position, for some unclosed flow collections (found by
                // ManifestFuzzTests); the scanner stopped where it gave up, the best line there is.
                var line = Math.Max(1, (int)scanner.CurrentPosition.Line);
                throw new ManifestException($"{source}:{line}: not valid YAML: the parser stopped here; look above for an unclosed '[', '{{' or quote",
                    source, null, null, line, ex);
            }
            catch (ArgumentException ex)
            {
                // YamlDotNet 18's "unsupported event", for an alias where it cannot build a node.
                var line = Math.Max(1, (int)scanner.CurrentPosition.Line);
                throw new ManifestException($"{source}:{line}: not valid YAML: the parser stopped here; look for a misplaced alias (*name) or indentation",
                    source, null, null, line, ex);
            }

            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
                throw Fail(null, null, stream.Documents.Count > 0 ? stream.Documents[0].RootNode : null,
                    "expected a mapping with a 'models:' list");
            CheckKeys(root, TopKeys, null, null);

            if (Find(root, "models") is not YamlSequenceNode list)
                throw Fail(null, "models", Find(root, "models") ?? root, "missing or not a list: 'models:' must list at least one model");
            if (list.Children.Count == 0)
                throw Fail(null, "models", list, "the list is empty: declare at least one model");

            var models = new List<ModelSpec>();
            for (var i = 0; i < list.Children.Count; i++)
            {
                var spec = ReadModel(list.Children[i], i);
                if (models.Any(m => m.Name == spec.Name))
                    throw Fail(spec.Name, "name", list.Children[i], "declared twice: model names must be unique");
                models.Add(spec);
            }

            var @default = models[0];
            if (Find(root, "default") is { } defNode)
            {
                var defName = Scalar(defNode, null, "default");
                @default = models.FirstOrDefault(m => m.Name == defName)
                    ?? throw Fail(null, "default", defNode, $"'{defName}' is not a declared model; declared: {string.Join(", ", models.Select(m => m.Name))}");
            }
            return new ModelManifest(source, models, @default);
        }

        private ModelSpec ReadModel(YamlNode node, int index)
        {
            if (node is not YamlMappingNode m)
                throw Fail($"#{index + 1}", null, node, "expected a mapping (name:, file:, input:, classes:, ...)");
            var nameNode = Find(m, "name") ?? throw Fail($"#{index + 1}", "name", m, "missing required field");
            var name = Scalar(nameNode, $"#{index + 1}", "name");
            if (name.Length == 0) throw Fail($"#{index + 1}", "name", nameNode, "must not be empty");
            CheckKeys(m, ModelKeys, name, null);

            var file = Scalar(Required(m, name, "file", "file"), name, "file");
            if (file.Length == 0) throw Fail(name, "file", Find(m, "file"), "must not be empty");

            string? sha = null;
            if (Find(m, "sha256") is { } shaNode)
            {
                sha = Scalar(shaNode, name, "sha256").ToLowerInvariant();
                if (sha.Length != 64 || !sha.All(Uri.IsHexDigit))
                    throw Fail(name, "sha256", shaNode, $"expected 64 hex digits, found '{sha}'");
            }

            var input = ReadInput(Required(m, name, "input", "input"), name);

            var layout = OutputLayout.Auto;
            if (Find(m, "output") is { } outNode)
            {
                var om = Mapping(outNode, name, "output");
                CheckKeys(om, OutputKeys, name, "output");
                if (Find(om, "layout") is { } layoutNode)
                {
                    layout = Scalar(layoutNode, name, "output.layout").ToLowerInvariant() switch
                    {
                        "auto" => OutputLayout.Auto,
                        "yolov8" or "yolo11" => OutputLayout.YoloV8,
                        "yolov5" => OutputLayout.YoloV5,
                        "yolox" => OutputLayout.Yolox,
                        "fastestdet" => OutputLayout.FastestDet,
                        "end2end" or "yolov10" => OutputLayout.EndToEnd,
                        var other => throw Fail(name, "output.layout", layoutNode,
                            $"unknown layout '{other}'; expected auto, yolov8 (also yolo11), yolov5, yolox, fastestdet or end2end (also yolov10)"),
                    };
                }
            }

            var confidence = Find(m, "confidence") is { } cn ? Float(cn, name, "confidence") : 0.25f;
            if (!(confidence > 0 && confidence < 1)) throw Fail(name, "confidence", Find(m, "confidence"), $"must be between 0 and 1 (exclusive), found {confidence}");
            var iou = Find(m, "nms_iou") is { } iouNode ? Float(iouNode, name, "nms_iou") : 0.45f;
            if (!(iou > 0 && iou <= 1)) throw Fail(name, "nms_iou", Find(m, "nms_iou"), $"must be in (0, 1], found {iou}");
            var maxDet = Find(m, "max_detections") is { } mdNode ? Int(mdNode, name, "max_detections") : 300;
            if (maxDet <= 0) throw Fail(name, "max_detections", Find(m, "max_detections"), $"must be positive, found {maxDet}");

            var classesNode = Required(m, name, "classes", "classes");
            if (classesNode is not YamlSequenceNode cs || cs.Children.Count == 0)
                throw Fail(name, "classes", classesNode, "expected a non-empty list of class names, index = class id");
            var classes = new List<string>(cs.Children.Count);
            foreach (var c in cs.Children)
            {
                var cname = Scalar(c, name, "classes");
                // Case types map by class name, so a repeated name would be ambiguous.
                if (classes.Contains(cname))
                    throw Fail(name, "classes", c, $"class '{cname}' is listed twice");
                classes.Add(cname);
            }

            var caseTypes = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            if (Find(m, "case_types") is { } ctNode)
            {
                var ctm = Mapping(ctNode, name, "case_types");
                var owner = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var (k, v) in ctm.Children)
                {
                    var caseType = Scalar(k, name, "case_types");
                    var field = $"case_types.{caseType}";
                    if (v is not YamlSequenceNode seq)
                        throw Fail(name, field, v, "expected a list of class names");
                    var list = new List<string>();
                    foreach (var item in seq.Children)
                    {
                        var cname = Scalar(item, name, field);
                        if (!classes.Contains(cname))
                            throw Fail(name, field, item, $"'{cname}' is not in this model's classes");
                        if (owner.TryGetValue(cname, out var prev))
                            throw Fail(name, field, item, $"class '{cname}' already maps to case type '{prev}'; a class raises at most one case type");
                        owner[cname] = caseType;
                        list.Add(cname);
                    }
                    caseTypes[caseType] = list;
                }
            }

            var classConfidence = new Dictionary<string, float>(StringComparer.Ordinal);
            if (Find(m, "class_confidence") is { } ccNode)
            {
                foreach (var (k, v) in Mapping(ccNode, name, "class_confidence").Children)
                {
                    var cname = Scalar(k, name, "class_confidence");
                    if (!classes.Contains(cname))
                        throw Fail(name, "class_confidence", k, $"'{cname}' is not in this model's classes");
                    var field = $"class_confidence.{cname}";
                    var t = Float(v, name, field);
                    if (!(t > 0 && t < 1)) throw Fail(name, field, v, $"must be between 0 and 1 (exclusive), found {t}");
                    classConfidence[cname] = t;
                }
            }

            return new ModelSpec
            {
                Name = name,
                File = file,
                Sha256 = sha,
                Input = input,
                Layout = layout,
                Confidence = confidence,
                ClassConfidence = classConfidence,
                NmsIou = iou,
                MaxDetections = maxDet,
                Classes = classes,
                CaseTypes = caseTypes,
            };
        }

        private PreprocessSpec ReadInput(YamlNode node, string model)
        {
            var m = Mapping(node, model, "input");
            CheckKeys(m, InputKeys, model, "input");
            var width = Int(Required(m, model, "width", "input.width"), model, "input.width");
            var height = Int(Required(m, model, "height", "input.height"), model, "input.height");
            if (width <= 0) throw Fail(model, "input.width", Find(m, "width"), $"must be positive, found {width}");
            if (height <= 0) throw Fail(model, "input.height", Find(m, "height"), $"must be positive, found {height}");

            // Colour, scale and resize have no defaults on purpose: a wrong guess runs without error but detects badly.
            var colourNode = Required(m, model, "colour", "input.colour");
            var colour = Scalar(colourNode, model, "input.colour").ToLowerInvariant() switch
            {
                "rgb" => ChannelOrder.Rgb,
                "bgr" => ChannelOrder.Bgr,
                var other => throw Fail(model, "input.colour", colourNode, $"expected rgb or bgr, found '{other}'"),
            };
            var scaleNode = Required(m, model, "scale", "input.scale");
            var scale = Float(scaleNode, model, "input.scale");
            if (!(scale > 0)) throw Fail(model, "input.scale", scaleNode, $"must be positive, found {scale}");
            var resizeNode = Required(m, model, "resize", "input.resize");
            var resize = Scalar(resizeNode, model, "input.resize").ToLowerInvariant() switch
            {
                "letterbox" => ResizeMode.Letterbox,
                "letterbox_topleft" => ResizeMode.LetterboxTopLeft,
                "stretch" => ResizeMode.Stretch,
                var other => throw Fail(model, "input.resize", resizeNode, $"unknown resize '{other}'; expected letterbox, letterbox_topleft or stretch"),
            };
            var pad = 114;
            if (Find(m, "pad") is { } padNode)
            {
                pad = Int(padNode, model, "input.pad");
                if (pad is < 0 or > 255) throw Fail(model, "input.pad", padNode, $"must be a byte value 0..255, found {pad}");
            }
            return new PreprocessSpec(width, height, resize, colour, scale, (byte)pad);
        }

        private YamlNode Required(YamlMappingNode m, string model, string key, string field) =>
            Find(m, key) ?? throw Fail(model, field, m, "missing required field");

        private static YamlNode? Find(YamlMappingNode m, string key)
        {
            foreach (var (k, v) in m.Children)
                if (k is YamlScalarNode s && s.Value == key) return v;
            return null;
        }

        private void CheckKeys(YamlMappingNode m, string[] allowed, string? model, string? parent)
        {
            foreach (var (k, _) in m.Children)
            {
                var key = (k as YamlScalarNode)?.Value ?? "";
                if (!allowed.Contains(key))
                    throw Fail(model, parent is null ? key : $"{parent}.{key}", k, $"unknown field; expected one of: {string.Join(", ", allowed)}");
            }
        }

        private YamlMappingNode Mapping(YamlNode node, string model, string field) =>
            node as YamlMappingNode ?? throw Fail(model, field, node, "expected a mapping");

        private string Scalar(YamlNode node, string? model, string field) =>
            (node as YamlScalarNode)?.Value?.Trim() ?? throw Fail(model, field, node, "expected a single value");

        private int Int(YamlNode node, string model, string field)
        {
            var s = Scalar(node, model, field);
            return int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
                ? v
                : throw Fail(model, field, node, $"expected a whole number, found '{s}'");
        }

        /// <summary>A number, or a fraction such as 1/255.</summary>
        private float Float(YamlNode node, string model, string field)
        {
            var s = Scalar(node, model, field);
            const NumberStyles style = NumberStyles.Float;
            var slash = s.IndexOf('/');
            if (slash < 0 && double.TryParse(s, style, CultureInfo.InvariantCulture, out var v))
                return (float)v;
            if (slash > 0
                && double.TryParse(s.AsSpan(0, slash), style, CultureInfo.InvariantCulture, out var num)
                && double.TryParse(s.AsSpan(slash + 1), style, CultureInfo.InvariantCulture, out var den) && den != 0)
                return (float)(num / den);
            throw Fail(model, field, node, $"expected a number (e.g. 0.25 or 1/255), found '{s}'");
        }

        private ManifestException Fail(string? model, string? field, YamlNode? node, string message)
        {
            // No node: an empty or comment-only file, wrong as a whole; its first line is where to look.
            var line = node is null ? 1 : Math.Max(1, (int)node.Start.Line);
            var where = $"{source}:{line}";
            var what = (model is null ? "" : $" model '{model}':") + (field is null ? "" : $" {field}:");
            return new ManifestException($"{where}:{what} {message}", source, model, field, line);
        }
    }
}
