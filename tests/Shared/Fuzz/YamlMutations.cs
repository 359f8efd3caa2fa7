using CsCheck;

namespace CitySight.Tests;

/// <summary>
/// Mutated copies of a YAML file for the loaders' fuzz tests (config, scenario, model manifest): mostly near-valid, so
/// the loaders' deep checks run too, not only the YAML parser. Compiled into the test projects that fuzz a loader.
/// </summary>
internal static class YamlMutations
{
    /// <summary>
    /// What breaks YAML readers: flow and block indicators, anchors and aliases, tags, odd scalars, tabs, control
    /// characters, and numbers of the wrong kind or range. Each loader's tests add their own domain's values.
    /// </summary>
    public static readonly string[] YamlTokens =
    [
        ":", ": ", "- ", "-", "[", "]", "{", "}", ",", "#", "&a ", "*a", "<<: *a", "!!str ", "!!int ", "!x ", "|", ">",
        "'", "\"", "%YAML 1.2\n", "---\n", "...\n", "? ", "@", "`", "\t", "\n", "\r\n", "  ", "    ", "~", "null", "-1", "0",
        "1e309", "-1e309", ".nan", ".inf", "99999999999999999999", "0x1F", "1/0", "\u00e9", "\0", "\u0007", "\uFFFE",
    ];

    /// <summary>The seed text cut, spliced, re-indented, truncated, with tokens inserted, one to six times.</summary>
    public static Gen<string> Mutated(string seed, IReadOnlyList<string> tokens) =>
        Gen.Select(Gen.Int[0, 6], Gen.Int[0, seed.Length], Gen.Int[0, 40], Gen.OneOf(tokens.ToArray()), Gen.Int[0, seed.Length],
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

    /// <summary>Runs one case on its own thread, failing if it takes longer than a loader ever should (a hang).</summary>
    public static T Bounded<T>(Func<T> load, string input)
    {
        var run = Task.Run(load);
        if (!run.Wait(TimeSpan.FromSeconds(5))) Assert.Fail($"no answer within 5 s for:\n{input}");
        return run.Result;
    }
}
