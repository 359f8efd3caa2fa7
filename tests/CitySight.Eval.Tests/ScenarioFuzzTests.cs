using System.Text.RegularExpressions;
using CitySight.Configuration;
using CitySight.Tests;
using CsCheck;

namespace CitySight.Eval.Tests;

/// <summary>
/// ScenarioLoader.Load on mutated scenario files: it never throws and never hangs, and every error names scenario.yaml
/// with a line and column (file:line:column: field: message).
/// </summary>
public sealed partial class ScenarioFuzzTests
{
    private static readonly CitySightConfig BaseConfig = ConfigLoader.LoadOrThrow(Path.Combine(TestAssets.RepoRoot, "configs", "citysight.yaml"));

    // A valid scenario of every section the loader knows (EvalLoaderTests' good one, with a zone and dedup).
    private const string Good = """
        # a test scenario
        cameras:
          - id: cam-a
            name: Street
            video: clip.mp4
            latitude: 31.2
            longitude: 121.4
            sample_interval: 0.5s
            detectors: [illegal_parking]
            zones:
              - name: road
                polygon: [[0.0, 0.9], [0.7, 0.7], [0.8, 1.0]]
        group: {id: g, name: G}
        rules:
          case_types:
            illegal_parking: {min_dwell: 10s, stationary: true}
        dedup:
          window: 5m
        expected:
          - type: illegal_parking
            cameras: [cam-a]
            at: [0.5, 0.7]
            from: 10s
            until: 20s
        """;

    // The YAML tokens every loader is fuzzed with, and values of this file's own kind.
    private static readonly string[] Tokens = [.. YamlMutations.YamlTokens, "rtsp://u:p@h/x", "1s", "-5s", "99999h", "[[0,0],[1,1]]", "{ image: [0.1], lat: 91 }", "video: clip.mp4\n", "expected: []\n", "\r"];

    [GeneratedRegex(@"^.+:[1-9][0-9]*:[1-9][0-9]*: ")]
    private static partial Regex Located();

    private static void LoadsOrLocates(string yaml)
    {
        var dir = TestAssets.TempDir("eval-fuzz");
        try
        {
            File.WriteAllText(Path.Combine(dir, ScenarioLoader.FileName), yaml);
            File.WriteAllBytes(Path.Combine(dir, "clip.mp4"), [0]); // the loader only needs it to exist
            var loaded = YamlMutations.Bounded(() => ScenarioLoader.Load(dir, mediaDir: null, BaseConfig), yaml);
            loaded.Scenario?.Dispose();
            Assert.Equal(loaded.Errors.Count == 0, loaded.Scenario is not null);
            var path = Path.Combine(dir, ScenarioLoader.FileName);
            foreach (var e in loaded.Errors)
            {
                Assert.True(e.File == path && e.Line >= 1 && e.Column >= 1 && e.Message.Length > 0 && Located().IsMatch(e.ToString()),
                    $"not located: {e}\n--- input:\n{yaml}");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TheSeed_Loads()
    {
        var dir = TestAssets.TempDir("eval-fuzz-seed");
        File.WriteAllText(Path.Combine(dir, ScenarioLoader.FileName), Good);
        File.WriteAllBytes(Path.Combine(dir, "clip.mp4"), [0]);
        var loaded = ScenarioLoader.Load(dir, mediaDir: null, BaseConfig);
        using var s = loaded.Scenario;
        Assert.True(loaded.Errors.Count == 0, string.Join("\n", loaded.Errors)); // else the mutations test only the first error
    }

    [Fact]
    public void MutatedScenario_LoadsOrGivesLocatedErrors()
    {
        YamlMutations.Mutated(Good, Tokens).Sample(LoadsOrLocates, iter: 150, print: s => s);
    }
}
