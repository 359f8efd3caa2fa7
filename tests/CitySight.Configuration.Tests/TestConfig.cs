namespace CitySight.Configuration.Tests;

/// <summary>A throw-away config folder: citysight.yaml plus camera files, written as the test says.</summary>
internal sealed class TestConfig
{
    public string Dir { get; } = CitySight.Tests.TestAssets.TempDir("cfg");
    public string MainPath => Path.Combine(Dir, "citysight.yaml");
    public string CamerasDir => Path.Combine(Dir, "cameras");

    public TestConfig(string mainYaml = "")
    {
        File.WriteAllText(MainPath, mainYaml);
    }

    /// <summary>Writes cameras/NAME and returns its path (which is also how errors name it: the main path is absolute).</summary>
    public string Camera(string name, string yaml)
    {
        Directory.CreateDirectory(CamerasDir);
        var path = Path.Combine(CamerasDir, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    public ConfigLoadResult Load() => ConfigLoader.Load(MainPath);

    /// <summary>1-based line of the only line holding <paramref name="marker"/> (tests mark the offending line with a comment).</summary>
    public static int LineOf(string yaml, string marker)
    {
        var lines = yaml.Split('\n');
        var hits = Enumerable.Range(0, lines.Length).Where(i => lines[i].Contains(marker, StringComparison.Ordinal)).ToList();
        Assert.True(hits.Count == 1, $"marker '{marker}' must be on exactly one line, found {hits.Count}");
        return hits[0] + 1;
    }

    /// <summary>1-based column where <paramref name="token"/> starts on that line.</summary>
    public static int ColumnOf(string yaml, int line, string token)
    {
        var text = yaml.Split('\n')[line - 1];
        var i = text.IndexOf(token, StringComparison.Ordinal);
        Assert.True(i >= 0, $"'{token}' not on line {line}: {text}");
        return i + 1;
    }

    /// <summary>The single error for <paramref name="field"/>; fails listing all errors otherwise.</summary>
    public static ConfigError Single(ConfigLoadResult result, string field)
    {
        var matches = result.Errors.Where(e => e.Field == field).ToList();
        Assert.True(matches.Count == 1,
            $"expected one error for {field}, got {matches.Count}:\n{string.Join("\n", result.Errors)}");
        Assert.Null(result.Config);
        return matches[0];
    }

    public static string AllErrors(ConfigLoadResult r) => string.Join("\n", r.Errors);
}
