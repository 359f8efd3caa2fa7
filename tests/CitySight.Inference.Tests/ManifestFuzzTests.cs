using CitySight.Tests;
using CsCheck;

namespace CitySight.Inference.Tests;

/// <summary>
/// ModelManifest.Parse on mutated manifests (the shipped one, cut, spliced, with YAML's odd characters and anchors
/// inserted): it either parses or throws a ManifestException that names the line; nothing else, and never hangs.
/// </summary>
public sealed class ManifestFuzzTests
{
    private static readonly string Shipped = File.ReadAllText(Path.Combine(CitySight.Tests.TestAssets.RepoRoot, "models", "manifest.yaml"));

    // The YAML tokens every loader is fuzzed with, and values of this file's own kind.
    private static readonly string[] Tokens = [.. YamlMutations.YamlTokens, "*coco80", "1/255", "name: x\n", "models:\n", "  - ", "classes: []", "input: {}", "width: 0", "height: -5", "scale: 1/0", "sha256: zz"];

    private static void ParsesOrLocates(string yaml)
    {
        var outcome = YamlMutations.Bounded<Exception?>(() =>
        {
            try
            {
                var m = ModelManifest.Parse(yaml, "fuzz.yaml");
                Assert.NotEmpty(m.Models);
                return null;
            }
            catch (ManifestException e)
            {
                return e;
            }
            catch (Exception e)
            {
                return new InvalidOperationException($"{e.GetType().Name} escaped the parser: {e.Message}", e);
            }
        }, yaml);
        if (outcome is null) return;
        Assert.True(outcome is ManifestException, $"{outcome.Message}\n--- input:\n{yaml}\n---\n{outcome.InnerException}");
        var m = (ManifestException)outcome;
        Assert.True(m.Line is > 0, $"not located: {m.Message}\n--- input:\n{yaml}");
        Assert.StartsWith("fuzz.yaml:", m.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MutatedManifest_ParsesOrThrowsALocatedManifestException()
    {
        YamlMutations.Mutated(Shipped, Tokens).Sample(ParsesOrLocates, iter: 600, print: s => s);
    }

    [Fact]
    public void RandomText_ParsesOrThrowsALocatedManifestException()
    {
        Gen.String[Gen.Char["abcmodels:name- []{}#&*!|>'\"\n\t 0123456789.,"], 0, 200].Sample(ParsesOrLocates, iter: 600);
    }

    [Theory]
    // Found by the samples above: YamlDotNet threw InvalidOperationException (an unclosed flow collection) and
    // ArgumentException (an alias it cannot place), and an empty file had no line.
    [InlineData("\t-o2.\t[10m#2!'\t5&8&s.c47bm\t.[e-7>6:\t{7ssas \nn\na3a{|54\"1]9\"&\n2895}")]
    [InlineData("models:\n  - name: a\n *a")]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    public void FoundCrashes_AreLocatedErrors(string yaml) => ParsesOrLocates(yaml);
}
