using System.Text.RegularExpressions;
using CitySight.Tests;

namespace CitySight.Cli.Tests;

/// <summary>The README's command table lists every verb the command answers to, and no verb it does not have.</summary>
public partial class ReadmeCommandTableTests
{
    [Fact]
    public async Task The_readme_command_table_names_exactly_the_verbs_of_citysight_help()
    {
        var (code, output, _) = await CitysightProcess.RunAsync(TimeSpan.FromSeconds(60), "--help");
        Assert.Equal(0, code);
        // System.CommandLine's help: a "Commands:" block, one verb per line, indented.
        var verbs = output.Split('\n')
            .SkipWhile(l => !l.StartsWith("Commands:", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(l => l.Length > 0 && char.IsWhiteSpace(l[0]))
            .Select(l => HelpVerb().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value)
            .ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(verbs);

        var readme = File.ReadAllText(Path.Combine(TestAssets.RepoRoot, "README.md"));
        var section = readme[readme.IndexOf("## The `citysight` command", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 3, StringComparison.Ordinal)];
        var listed = section.Split('\n').Select(l => TableVerb().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value)
            .ToHashSet(StringComparer.Ordinal);

        Assert.True(verbs.SetEquals(listed),
            $"citysight --help has [{string.Join(", ", verbs.Order())}], the README's table [{string.Join(", ", listed.Order())}]");
    }

    [GeneratedRegex(@"^\s+([a-z][a-z-]*)\b")]
    private static partial Regex HelpVerb();

    [GeneratedRegex(@"^\|\s*`([a-z][a-z-]*)[\s`]")]
    private static partial Regex TableVerb();
}
