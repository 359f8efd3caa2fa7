using System.Collections.Frozen;
using CitySight.Imaging;

namespace CitySight.Inference;

/// <summary>How a model's raw output tensor is laid out.</summary>
public enum OutputLayout
{
    /// <summary>Tell the layout from the output shape, the class count and the input size.</summary>
    Auto,

    /// <summary>YOLOv8 / YOLO11: [1, 4+C, N] — cx, cy, w, h, then C class scores; no objectness.</summary>
    YoloV8,

    /// <summary>YOLOv5: [1, N, 5+C] — cx, cy, w, h, objectness, then C class scores; score = obj x cls.</summary>
    YoloV5,

    /// <summary>YOLOX raw head: [1, N, 5+C] with N the grid cells of strides 8/16/32; boxes decoded on the grid.</summary>
    Yolox,

    /// <summary>FastestDet: [1, 5+C, H, W] — per grid cell objectness, centre offset, size, C class scores.</summary>
    FastestDet,

    /// <summary>NMS inside the model (YOLOv10, RT-DETR style): [1, K, 6] — x1, y1, x2, y2, score, class id.</summary>
    EndToEnd,
}

/// <summary>One model as declared in models/manifest.yaml.</summary>
public sealed record ModelSpec
{
    public required string Name { get; init; }

    /// <summary>File name, looked up in the model folders by <see cref="ModelLocator"/>.</summary>
    public required string File { get; init; }

    /// <summary>Expected SHA-256 of the file (lower-case hex), or null to skip the check.</summary>
    public string? Sha256 { get; init; }

    public required PreprocessSpec Input { get; init; }
    public OutputLayout Layout { get; init; } = OutputLayout.Auto;

    // MinConfidence is read per frame: kept up to date by both init accessors rather than computed on each read.
    private readonly float _confidence = 0.25f;
    private readonly IReadOnlyDictionary<string, float> _classConfidence = FrozenDictionary<string, float>.Empty;
    private readonly float _minConfidence = 0.25f;

    /// <summary>Detections scoring at or below this are dropped before NMS, unless <see cref="ClassConfidence"/> sets their class's.</summary>
    public float Confidence
    {
        get => _confidence;
        init
        {
            _confidence = value;
            _minConfidence = Lowest(value, _classConfidence);
        }
    }

    /// <summary>Class name → its own score threshold, overriding <see cref="Confidence"/> for that class.</summary>
    public IReadOnlyDictionary<string, float> ClassConfidence
    {
        get => _classConfidence;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            _classConfidence = value;
            _minConfidence = Lowest(_confidence, value);
        }
    }

    /// <summary>
    /// The lowest threshold of any class: what to pass to <see cref="IOutputDecoder.Decode"/> before filtering
    /// each class with <see cref="ConfidenceByClassId"/>.
    /// </summary>
    public float MinConfidence => _minConfidence;

    /// <summary>Boxes of the same class overlapping more than this IoU are suppressed.</summary>
    public float NmsIou { get; init; } = 0.45f;

    public int MaxDetections { get; init; } = 300;

    /// <summary>Class names; the index is the class id the model outputs.</summary>
    public required IReadOnlyList<string> Classes { get; init; }

    /// <summary>Case type id → class names that raise it. A class belongs to at most one case type.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> CaseTypes { get; init; } =
        FrozenDictionary<string, IReadOnlyList<string>>.Empty;

    /// <summary>The score threshold of each class; index = class id. <see cref="Confidence"/> where the class has none of its own.</summary>
    public float[] ConfidenceByClassId()
    {
        var result = new float[Classes.Count];
        for (var i = 0; i < result.Length; i++)
            result[i] = ClassConfidence.TryGetValue(Classes[i], out var t) ? t : Confidence;
        return result;
    }

    private static float Lowest(float confidence, IReadOnlyDictionary<string, float> byClass)
    {
        var min = confidence;
        foreach (var (_, v) in byClass)
            min = Math.Min(min, v);
        return min;
    }

    /// <summary>The case type a class id maps to, or null; index = class id.</summary>
    public string?[] CaseTypeByClassId()
    {
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (caseType, classes) in CaseTypes)
            foreach (var c in classes)
                byName[c] = caseType;
        var result = new string?[Classes.Count];
        for (var i = 0; i < result.Length; i++)
            result[i] = byName.GetValueOrDefault(Classes[i]);
        return result;
    }
}
