namespace CitySight.Inference;

/// <summary>The model manifest is malformed. The message names the file, the model entry, the field and the line.</summary>
public sealed class ManifestException(string message, string manifestPath, string? model, string? field, int? line, Exception? inner = null)
    : Exception(message, inner)
{
    public string ManifestPath { get; } = manifestPath;
    public string? Model { get; } = model;
    public string? Field { get; } = field;

    /// <summary>1-based line in the manifest, when known.</summary>
    public int? Line { get; } = line;
}

/// <summary>No folder holds the model file. The message says where it looked and how to get a model.</summary>
public sealed class ModelNotFoundException(string message, string modelName, IReadOnlyList<string> searchedFolders)
    : FileNotFoundException(message)
{
    public string ModelName { get; } = modelName;
    public IReadOnlyList<string> SearchedFolders { get; } = searchedFolders;
}

/// <summary>The model file's SHA-256 is not the one the manifest declares.</summary>
public sealed class ModelHashMismatchException(string path, string expected, string actual)
    : IOException($"model file {path} has sha256 {actual} but the manifest expects {expected}: wrong or corrupted file, or update sha256 in models/manifest.yaml")
{
    public string Path { get; } = path;
    public string Expected { get; } = expected;
    public string Actual { get; } = actual;
}

/// <summary>The ONNX model does not fit its manifest entry (input size, output shape, class count).</summary>
public sealed class ModelMismatchException(string message) : Exception(message);
