using System.Collections.Frozen;
using CitySight.Imaging;

namespace CitySight.Inference;

/// <summary>How a model's raw output tensor is laid out.</summary>
public enum OutputLayout
{
    /// <summary>Tell YOLOv8 and YOLOv5 apart from the output shape and the class count.</summary>
    Auto,

    /// <summary>YOLOv8 / YOLO11: [1, 4+C, N] — cx, cy, w, h, then C class scores; no objectness.</summary>
    YoloV8,

    /// <summary>YOLOv5: [1, N, 5+C] — cx, cy, w, h, objectness, then C class scores; score = obj x cls.</summary>
    YoloV5,
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

    /// <summary>Detections scoring at or below this are dropped before NMS.</summary>
    public float Confidence { get; init; } = 0.25f;

    /// <summary>Boxes of the same class overlapping more than this IoU are suppressed.</summary>
    public float NmsIou { get; init; } = 0.45f;

    public int MaxDetections { get; init; } = 300;

    /// <summary>Class names; the index is the class id the model outputs.</summary>
    public required IReadOnlyList<string> Classes { get; init; }

    /// <summary>Case type id → class names that raise it. A class belongs to at most one case type.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> CaseTypes { get; init; } =
        FrozenDictionary<string, IReadOnlyList<string>>.Empty;

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
