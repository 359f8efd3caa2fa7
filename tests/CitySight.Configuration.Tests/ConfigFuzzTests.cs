using System.Text.RegularExpressions;
using CitySight.Tests;
using CsCheck;

namespace CitySight.Configuration.Tests;

/// <summary>
/// ConfigLoader.Load on mutated copies of the shipped citysight.yaml and camera group file: it never throws and never
/// hangs, and every error it reports is located (file:line:column: field: message) in the file that holds it.
/// </summary>
public sealed partial class ConfigFuzzTests
{
    private static readonly string ShippedMain = File.ReadAllText(Path.Combine(CitySight.Tests.TestAssets.RepoRoot, "configs", "citysight.yaml"));
    private static readonly string ShippedCameras = File.ReadAllText(Path.Combine(CitySight.Tests.TestAssets.RepoRoot, "configs", "cameras", "demo.yaml"));

    // The YAML tokens every loader is fuzzed with, and values of this file's own kind.
    private static readonly string[] Tokens = [.. YamlMutations.YamlTokens, "rtsp://u:p@h/x", "1s", "-5s", "99999h", "[[0,0],[1,1]]", "{ image: [0.1], lat: 91 }", "cameras: /"];

    [GeneratedRegex(@"^[^:]+:[1-9][0-9]*:[1-9][0-9]*: ")]
    private static partial Regex Located();

    private static void LoadsOrLocates(string mainYaml, string camerasYaml)
    {
        var dir = CitySight.Tests.TestAssets.TempDir("cfg-fuzz");
        try
        {
            var main = Path.Combine(dir, "citysight.yaml");
            File.WriteAllText(main, mainYaml);
            Directory.CreateDirectory(Path.Combine(dir, "cameras"));
            File.WriteAllText(Path.Combine(dir, "cameras", "demo.yaml"), camerasYaml);

            var result = YamlMutations.Bounded(() => ConfigLoader.Load(main), mainYaml + "\n--- cameras/demo.yaml:\n" + camerasYaml);
            Assert.Equal(result.Errors.Count == 0, result.Success);
            foreach (var e in result.Errors)
            {
                Assert.True(e.Line >= 1 && e.Column >= 1 && e.Message.Length > 0 && Located().IsMatch(e.ToString()),
                    $"not located: {e}\n--- main:\n{mainYaml}\n--- cameras:\n{camerasYaml}");
                Assert.True(e.File == main || e.File.EndsWith(Path.Combine("cameras", "demo.yaml"), StringComparison.Ordinal), e.ToString());
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void MutatedMainFile_LoadsOrGivesLocatedErrors()
    {
        YamlMutations.Mutated(ShippedMain, Tokens).Sample(m => LoadsOrLocates(m, ShippedCameras), iter: 250, print: s => s);
    }

    [Fact]
    public void MutatedCameraFile_LoadsOrGivesLocatedErrors()
    {
        YamlMutations.Mutated(ShippedCameras, Tokens).Sample(c => LoadsOrLocates(ShippedMain, c), iter: 250, print: s => s);
    }

    [Fact]
    public void AliasBomb_IsRefusedOrReadQuickly()
    {
        // A billion laughs: each level names the one below ten times. A reader that expanded aliases would never finish.
        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + string.Concat(Enumerable.Range(1, 9).Select(i =>
            $"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n"));
        LoadsOrLocates(bomb + ShippedMain, ShippedCameras);
        LoadsOrLocates(ShippedMain, bomb + ShippedCameras);
    }

    [Fact]
    public void AliasAfterTheLastKey_IsALocatedError()
    {
        // Found by MutatedCameraFile: YamlDotNet's ArgumentException ("unsupported event") escaped the loader.
        LoadsOrLocates(ShippedMain, ShippedCameras.TrimEnd() + "\n *a");
    }
}
