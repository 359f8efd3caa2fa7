using System.Security.Cryptography;

namespace CitySight.Inference;

/// <summary>Finds a declared model's file on disk and checks its hash.</summary>
public static class ModelLocator
{
    /// <summary>
    /// The path of <paramref name="spec"/>'s file in the first of <paramref name="searchFolders"/> that has it
    /// (the service passes models/ then ../shared/assets/models/). Verifies sha256 when the manifest gives one.
    /// </summary>
    /// <exception cref="ModelNotFoundException">No folder has the file.</exception>
    /// <exception cref="ModelHashMismatchException">The file found has another hash.</exception>
    public static string Locate(ModelSpec spec, IReadOnlyList<string> searchFolders)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(searchFolders);

        string? found = null;
        foreach (var folder in searchFolders)
        {
            var candidate = Path.Combine(folder, spec.File);
            if (File.Exists(candidate))
            {
                found = candidate;
                break;
            }
        }
        if (found is null)
            throw new ModelNotFoundException(NotFoundMessage(spec, searchFolders), spec.Name, searchFolders);

        if (spec.Sha256 is { } expected)
        {
            var actual = Sha256Of(found);
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                throw new ModelHashMismatchException(found, expected, actual);
        }
        return found;
    }

    /// <summary>Lower-case hex SHA-256 of a file.</summary>
    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static string NotFoundMessage(ModelSpec spec, IReadOnlyList<string> folders)
    {
        var looked = folders.Count == 0
            ? "  (no folders were given)"
            : string.Join(Environment.NewLine, folders.Select(f => $"  {Path.GetFullPath(f)}"));
        return $"""
            model '{spec.Name}': file '{spec.File}' not found. Looked in:
            {looked}
            Put the .onnx file in the models/ folder of the deployment (the first folder searched) and declare it in
            models/manifest.yaml (see models/README.md). To get a model, export one to ONNX, e.g. with Ultralytics:
              yolo export model=yolov8n.pt format=onnx
            then set file:, input:, classes: and case_types: for it in the manifest.
            """;
    }
}
