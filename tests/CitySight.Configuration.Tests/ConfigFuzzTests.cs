using System.Text.RegularExpressions;
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

    // What breaks YAML readers: flow and block indicators, anchors and aliases, tags, odd scalars, tabs, control
    // characters, and values of the wrong kind or range.
    private static readonly string[] Tokens =
    [
        ":", ": ", "- ", "-", "[", "]", "{", "}", ",", "#", "&a ", "*a", "<<: *a", "!!str ", "!!int ", "!x ", "|", ">",
        "'", "\"", "%YAML 1.2\n", "---\n", "...\n", "? ", "@", "`", "\t", "\n", "\r\n", "  ", "    ", "~", "null", "-1", "0",
        "1e309", "-1e309", ".nan", ".inf", "99999999999999999999", "0x1F", "1/0", "\u00e9", "\0", "\u0007", "\uFFFE",
        "rtsp://u:p@h/x", "1s", "-5s", "99999h", "[[0,0],[1,1]]", "{ image: [0.1], lat: 91 }", "cameras: /",
    ];

    /// <summary>The seed text cut, spliced, re-indented, with tokens inserted: mostly near-valid, so the deep checks run too.</summary>
    private static Gen<string> Mutated(string seed) =>
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
                        0 => s.Remove(at, n),                                                   // cut
                        1 => s.Insert(at, token),                                               // insert
                        2 => s.Remove(at, n).Insert(at, token),                                  // replace
                        3 => s.Insert(at, s.Substring(other, Math.Min(len, s.Length - other))), // splice a copy
                        4 => s[..at],                                                           // truncate
                        5 => s.Insert(at, new string(' ', len % 9)),                            // re-indent
                        _ => s.Insert(at, string.Concat(Enumerable.Repeat(token, len))),        // a run of one token
                    };
                }
                return s;
            });

    /// <summary>Runs one case on its own thread, failing if it takes longer than a loader ever should.</summary>
    private static T Bounded<T>(Func<T> load, string input)
    {
        var run = Task.Run(load);
        if (!run.Wait(TimeSpan.FromSeconds(5))) Assert.Fail($"no answer within 5 s for:\n{input}");
        return run.Result;
    }

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

            var result = Bounded(() => ConfigLoader.Load(main), mainYaml + "\n--- cameras/demo.yaml:\n" + camerasYaml);
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
        Mutated(ShippedMain).Sample(m => LoadsOrLocates(m, ShippedCameras), iter: 250, print: s => s);
    }

    [Fact]
    public void MutatedCameraFile_LoadsOrGivesLocatedErrors()
    {
        Mutated(ShippedCameras).Sample(c => LoadsOrLocates(ShippedMain, c), iter: 250, print: s => s);
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
