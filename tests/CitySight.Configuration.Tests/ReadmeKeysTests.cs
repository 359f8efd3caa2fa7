using System.Text.RegularExpressions;
using CitySight.Tests;

namespace CitySight.Configuration.Tests;

/// <summary>
/// configs/README.md documents every declared key (in a key table of its section) and no key that is not declared.
/// Sections and their own keys need no row of their own (the README explains them in prose and headings).
/// </summary>
public partial class ReadmeKeysTests
{
    private static readonly string Readme = Path.Combine(TestAssets.RepoRoot, "configs", "README.md");

    /// <summary>The first word of a README heading → the path its key tables' keys are relative to.</summary>
    private static readonly Dictionary<(ConfigFile, string), string> TablePrefixes = new()
    {
        [(ConfigFile.Main, "citysight.yaml")] = "",
        [(ConfigFile.Main, "models.run")] = "models.run[]",
        [(ConfigFile.Main, "rules.case_types")] = "rules.case_types.TYPE",
        [(ConfigFile.Main, "case_types")] = "case_types[]",
        [(ConfigFile.Main, "delivery.grpc")] = "delivery.grpc",
        [(ConfigFile.Main, "delivery.mqtt")] = "delivery.mqtt",
        [(ConfigFile.Main, "delivery.push")] = "delivery.push",
        [(ConfigFile.CameraGroup, "group")] = "",
        [(ConfigFile.CameraGroup, "cameras")] = "cameras[]",
        [(ConfigFile.CameraGroup, "zones")] = "cameras[].zones[]",
        [(ConfigFile.CameraGroup, "schedule")] = "cameras[].zones[].schedule",
        [(ConfigFile.CameraGroup, "ground")] = "cameras[].ground[]",
    };

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Quoted();

    /// <summary>Every key named in the first column of a README table whose header starts with "key".</summary>
    internal static HashSet<ConfigKey> Documented(IEnumerable<string> lines, out List<string> unknown)
    {
        var found = new HashSet<ConfigKey>();
        unknown = [];
        var file = ConfigFile.Main;
        var heading = "";
        var inKeyTable = false;
        var n = 0;
        foreach (var line in lines)
        {
            n++;
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                file = line.Contains("cameras/", StringComparison.Ordinal) ? ConfigFile.CameraGroup : ConfigFile.Main;
                heading = line[3..].Split(' ')[0];
                continue;
            }
            if (line.StartsWith("### ", StringComparison.Ordinal))
            {
                heading = line[4..].Split(' ')[0];
                continue;
            }
            if (!line.StartsWith('|'))
            {
                inKeyTable = false;
                continue;
            }
            var first = line.Split('|')[1].Trim();
            if (!inKeyTable)
            {
                // A table's header row: only "key" tables list keys (not the topic or built-in defaults tables).
                inKeyTable = first == "key";
                if (inKeyTable && !TablePrefixes.ContainsKey((file, heading)))
                    unknown.Add($"README line {n}: a key table under '{heading}', which ReadmeKeysTests.TablePrefixes does not know");
                continue;
            }
            if (first.StartsWith("---", StringComparison.Ordinal)) continue;
            var prefix = TablePrefixes.GetValueOrDefault((file, heading), "");
            foreach (Match m in Quoted().Matches(first))
            {
                var path = prefix.Length == 0 ? m.Groups[1].Value : $"{prefix}.{m.Groups[1].Value}";
                if (ConfigKeys.Find(file, path) is { } key) found.Add(key);
                else unknown.Add($"README line {n}: `{m.Groups[1].Value}` ({file} {path}) is not declared in ConfigKeys");
            }
        }
        return found;
    }

    [Fact]
    public void The_readme_documents_every_declared_key_and_no_other()
    {
        var documented = Documented(File.ReadLines(Readme), out var unknown);
        var missing = ConfigKeys.All
            .Where(k => k.Kind != ConfigKeyKind.Mapping && !documented.Contains(k))
            .Select(k => $"{k} ({k.Description}) is declared but configs/README.md has no table row for it")
            .ToList();
        Assert.True(missing.Count == 0 && unknown.Count == 0, string.Join("\n", missing.Concat(unknown)));
    }

    [Fact]
    public void The_readme_parser_sees_keys_of_both_files()
    {
        var documented = Documented(File.ReadLines(Readme), out _);
        Assert.Contains(ConfigKeys.Get(ConfigFile.Main, "ingest.max_frame_width"), documented);
        Assert.Contains(ConfigKeys.Get(ConfigFile.Main, "delivery.push.window"), documented);
        Assert.Contains(ConfigKeys.Get(ConfigFile.CameraGroup, "cameras[].zones[].schedule.days"), documented);
        // An undeclared key in a table is reported.
        Documented(["## citysight.yaml", "| key | default | meaning |", "| --- | --- | --- |", "| `ingest.max_frame_depth` | `0` | no |"], out var unknown);
        Assert.Contains(unknown, u => u.Contains("ingest.max_frame_depth", StringComparison.Ordinal));
    }
}
