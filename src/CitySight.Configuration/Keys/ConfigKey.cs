namespace CitySight.Configuration;

/// <summary>Which kind of file a key is written in.</summary>
public enum ConfigFile
{
    /// <summary>configs/citysight.yaml.</summary>
    Main,
    /// <summary>A camera group file under the cameras folder.</summary>
    CameraGroup,
}

/// <summary>What a key's value is, which says how it is read and validated.</summary>
public enum ConfigKeyKind
{
    /// <summary>A mapping whose own keys are declared under it.</summary>
    Mapping,
    /// <summary>A list of mappings; its items' keys are declared under <c>PATH[]</c>.</summary>
    List,
    /// <summary>A mapping from an id to a mapping; the inner keys are declared under <c>PATH.TYPE</c>.</summary>
    MapById,
    Text,
    /// <summary>Text naming one of a fixed set of words (<see cref="ConfigKey.Choices"/>).</summary>
    Choice,
    Int,
    Number,
    Bool,
    Duration,
    /// <summary>A path resolved against the file's folder.</summary>
    Path,
    /// <summary>A path resolved against the file's folder that must exist.</summary>
    File,
    /// <summary>The NAME of an environment variable that holds a secret, which must be set.</summary>
    EnvName,
    /// <summary>A list of words, e.g. case type ids.</summary>
    TextList,
    /// <summary>A value with a shape of its own (polygon, point, schedule), read by its own reader.</summary>
    Structured,
}

/// <summary>
/// One key of the YAML, declared once in <see cref="ConfigKeys"/>: where it is, what it holds, its range, its default
/// (read from the record that holds it, never written here) and where its value lands in <see cref="CitySightConfig"/>.
/// </summary>
public sealed record ConfigKey
{
    /// <summary>Dotted path; <c>[]</c> marks a list item and <c>TYPE</c> a case type id: <c>models.run[].max_batch</c>.</summary>
    public required string Path { get; init; }
    public required ConfigFile File { get; init; }
    public required ConfigKeyKind Kind { get; init; }
    /// <summary>One line, for people.</summary>
    public required string Description { get; init; }
    /// <summary>Must be written (where its parent is).</summary>
    public bool Required { get; init; }
    /// <summary>Smallest allowed value (numbers; durations in seconds); null = none.</summary>
    public double? Min { get; init; }
    /// <summary>Largest allowed value (numbers; durations in seconds); null = none.</summary>
    public double? Max { get; init; }
    /// <summary>True when <see cref="Min"/> itself is not allowed ("greater than").</summary>
    public bool MinExclusive { get; init; }
    /// <summary>The allowed words of a <see cref="ConfigKeyKind.Choice"/> key.</summary>
    public IReadOnlyList<string> Choices { get; init; } = [];
    /// <summary>A valid value (YAML text) other than the default: the registry test loads it and expects a change.</summary>
    public string? Sample { get; init; }
    /// <summary>The default, read from the record property initialiser that holds it; null when there is none.</summary>
    public Func<object?>? Default { get; init; }
    /// <summary>Where the value lands: reads it back from a loaded config (the first list item for list keys).</summary>
    public Func<CitySightConfig, object?>? Loaded { get; init; }

    /// <summary>The key as written in the YAML (the last part of <see cref="Path"/>).</summary>
    public string Name => Path[(Path.LastIndexOf('.') + 1)..];

    /// <summary>The path of the mapping the key is written in; "" for a file's top level.</summary>
    public string Parent => Path.LastIndexOf('.') is var i and >= 0 ? Path[..i] : "";

    /// <summary>Keys that hold a value (not a container of other keys).</summary>
    public bool IsLeaf => Kind is not (ConfigKeyKind.Mapping or ConfigKeyKind.List or ConfigKeyKind.MapById);

    public override string ToString() => $"{File}:{Path}";
}
