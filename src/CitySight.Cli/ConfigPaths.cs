using System.CommandLine;
using CitySight.Configuration;

namespace CitySight.Cli;

internal static class ConfigPaths
{
    public static Option<string?> ConfigOption() => new("--config", "-c")
    {
        Description = "Path of citysight.yaml (default: configs/citysight.yaml found from the current folder or the program's folder upwards)",
    };

    /// <summary>The embedded default: configs/citysight.yaml of the checkout this program runs from.</summary>
    public static string Resolve(string? given)
    {
        if (!string.IsNullOrEmpty(given))
            return Directory.Exists(given) ? Path.GetFullPath(Path.Combine(given, "citysight.yaml")) : Path.GetFullPath(given);
        if (Environment.GetEnvironmentVariable("CITYSIGHT_CONFIG") is { Length: > 0 } env) return Path.GetFullPath(env);
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                var candidate = Path.Combine(d.FullName, "configs", "citysight.yaml");
                if (File.Exists(candidate)) return candidate;
            }
        throw new FileNotFoundException("no configs/citysight.yaml found from the current folder or the program's folder; pass --config PATH");
    }

    /// <summary>Loads and validates, printing every error as file:line:column: field: message. Null when invalid.</summary>
    public static CitySightConfig? LoadOrReport(string path)
    {
        var result = ConfigLoader.Load(path);
        foreach (var e in result.Errors) Console.Error.WriteLine(e);
        if (result.Config is null || result.Errors.Count > 0)
        {
            Console.Error.WriteLine($"configuration invalid: {result.Errors.Count} error(s)");
            return null;
        }
        return result.Config;
    }
}
