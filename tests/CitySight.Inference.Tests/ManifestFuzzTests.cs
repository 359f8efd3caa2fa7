using CsCheck;

namespace CitySight.Inference.Tests;

/// <summary>
/// ModelManifest.Parse on mutated manifests (the shipped one, cut, spliced, with YAML's odd characters and anchors
/// inserted): it either parses or throws a ManifestException that names the line; nothing else, and never hangs.
/// </summary>
public sealed class ManifestFuzzTests
{
    private static readonly string Shipped = File.ReadAllText(Path.Combine(CitySight.Tests.TestAssets.RepoRoot, "models", "manifest.yaml"));

    // What breaks YAML readers: flow and block indicators, anchors and aliases, tags, odd scalars, tabs, control
    // characters, and values of the wrong kind or range.
    private static readonly string[] Tokens =
    [
        ":", ": ", "- ", "-", "[", "]", "{", "}", ",", "#", "&a ", "*a", "*coco80", "<<: *a", "!!str ", "!!int ", "!x ", "|", ">",
        "'", "\"", "%YAML 1.2\n", "---\n", "...\n", "? ", "@", "`", "\t", "\n", "\r\n", "  ", "    ", "~", "null", "-1", "0",
        "1e309", "-1e309", ".nan", ".inf", "99999999999999999999", "0x1F", "1/0", "1/255", "\u00e9", "\0", "\u0007", "\uFFFE",
        "name: x\n", "models:\n", "  - ", "classes: []", "input: {}", "width: 0", "height: -5", "scale: 1/0", "sha256: zz",
    ];

    internal static Gen<string> Mutated(string seed) =>
        Gen.Select(Gen.Int[0, 6], Gen.Int[0, seed.Length], Gen.Int[0, 40], Gen.OneOf(Tokens), Gen.Int[0, seed.Length],
                (kind, at, len, token, other) => (Kind: kind, At: at, Len: len, Token: token, Other: other))
            .Array[1, 6]
            .Select(ops =>
            {
                var s = seed;
                foreach (var (kind, at0, len, token, other0) in ops)
                {
                    var at = Math.Min(at0, s.Length);
                    var other = Math.Min(other0, s.Length);
                    var n = Math.Min(len, s.Length - at);
                    s = kind switch
                    {
                        0 => s.Remove(at, n),                                             // cut
                        1 => s.Insert(at, token),                                         // insert
                        2 => s.Remove(at, n).Insert(at, token),                            // replace
                        3 => s.Insert(at, s.Substring(other, Math.Min(len, s.Length - other))), // splice a copy
                        4 => s[..at],                                                     // truncate
                        5 => s.Insert(at, new string(' ', len % 9)),                      // re-indent
                        _ => s.Insert(at, string.Concat(Enumerable.Repeat(token, len))),  // a run of one token
                    };
                }
                return s;
            });

    /// <summary>Runs one case on its own thread, failing if it takes longer than a parser ever should.</summary>
    internal static T Bounded<T>(Func<T> parse, string input)
    {
        var run = Task.Run(parse);
        if (!run.Wait(TimeSpan.FromSeconds(5))) Assert.Fail($"no answer within 5 s for:\n{input}");
        return run.Result;
    }

    private static void ParsesOrLocates(string yaml)
    {
        var outcome = Bounded<Exception?>(() =>
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
        Mutated(Shipped).Sample(ParsesOrLocates, iter: 600, print: s => s);
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
