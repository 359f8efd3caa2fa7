using System.Text;

namespace CitySight.Configuration;

/// <summary>
/// One problem found in the configuration. <see cref="File"/> is the path as the caller gave it (or derived from it),
/// so it reads the same way the operator typed it. Line and Column are 1-based; 0 when the problem has no position
/// (e.g. the file cannot be read).
/// </summary>
public sealed record ConfigError(string File, int Line, int Column, string Field, string Message)
{
    /// <summary><c>configs/cameras/demo.yaml:14:7: cameras[2].latitude: must be between -90 and 90 (got 123.4)</c></summary>
    public override string ToString()
    {
        var where = Line > 0 ? $"{File}:{Line}:{Column}" : File;
        return Field.Length > 0 ? $"{where}: {Field}: {Message}" : $"{where}: {Message}";
    }
}

/// <summary>What <see cref="ConfigLoader.Load"/> found: a config when there were no errors, otherwise every error.</summary>
public sealed class ConfigLoadResult(CitySightConfig? config, IReadOnlyList<ConfigError> errors)
{
    /// <summary>Null whenever <see cref="Errors"/> is not empty: a half-valid config is never handed out.</summary>
    public CitySightConfig? Config { get; } = errors.Count == 0 ? config : null;
    public IReadOnlyList<ConfigError> Errors { get; } = errors;
    public bool Success => Config is not null;
}

/// <summary>Thrown by <see cref="ConfigLoader.LoadOrThrow"/>; the message lists every error, one a line.</summary>
public sealed class ConfigException(IReadOnlyList<ConfigError> errors) : Exception(Format(errors))
{
    public IReadOnlyList<ConfigError> Errors { get; } = errors;

    private static string Format(IReadOnlyList<ConfigError> errors)
    {
        var sb = new StringBuilder();
        sb.Append(errors.Count).Append(errors.Count == 1 ? " configuration error:" : " configuration errors:");
        foreach (var e in errors) sb.AppendLine().Append("  ").Append(e);
        return sb.ToString();
    }
}
