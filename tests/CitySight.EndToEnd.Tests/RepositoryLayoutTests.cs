using System.Text.RegularExpressions;
using System.Xml.Linq;
using CitySight.Tests;

namespace CitySight.EndToEnd.Tests;

/// <summary>
/// src/README.md is the map a newcomer reads: these tests keep it, the project files, the folders and the test
/// projects in agreement, so a new reference or project cannot slip in without the map saying so.
/// </summary>
public partial class RepositoryLayoutTests
{
    private static readonly string Src = Path.Combine(TestAssets.RepoRoot, "src");
    private static readonly string Readme = File.ReadAllText(Path.Combine(Src, "README.md"));

    private static IReadOnlyList<string> SrcProjects() =>
        Directory.GetDirectories(Src)
            .Where(d => File.Exists(Path.Combine(d, Path.GetFileName(d) + ".csproj")))
            .Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();

    private static IReadOnlySet<string> ReferencesOf(string project)
    {
        var csproj = XDocument.Load(Path.Combine(Src, project, project + ".csproj"));
        return csproj.Descendants("ProjectReference")
            .Select(r => Path.GetFileNameWithoutExtension(((string?)r.Attribute("Include") ?? "").Replace('\\', '/')))
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Rows "| CitySight.X | ... |" of the README table whose header's first two cells are <paramref name="first"/>, <paramref name="second"/>.</summary>
    private static Dictionary<string, string> Table(string first, string second)
    {
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        var inTable = false;
        foreach (var raw in Readme.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith('|')) { inTable = false; continue; }
            var cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            if (cells.Length >= 2 && cells[0] == first && cells[1] == second) { inTable = true; continue; }
            if (inTable && cells[0].StartsWith("CitySight.", StringComparison.Ordinal)) rows[cells[0]] = cells[1];
        }
        return rows;
    }

    [Fact]
    public void Every_src_project_is_on_the_map_and_the_map_names_no_other()
    {
        var owns = Table("project", "owns");
        Assert.Equal(SrcProjects(), owns.Keys.Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void The_maps_reference_table_is_what_the_project_files_reference()
    {
        var table = Table("project", "references");
        Assert.Equal(SrcProjects(), table.Keys.Order(StringComparer.Ordinal).ToList());
        foreach (var project in SrcProjects())
        {
            var listed = ProjectName().Matches(table[project]).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
            var actual = ReferencesOf(project);
            Assert.True(listed.SetEquals(actual),
                $"src/README.md says {project} references [{string.Join(", ", listed.Order())}], its .csproj references [{string.Join(", ", actual.Order())}]");
        }
    }

    [Fact]
    public void Stages_never_reference_the_host_or_the_configuration()
    {
        string[] stages = ["CitySight.Ingest", "CitySight.Inference", "CitySight.Tracking", "CitySight.Rules", "CitySight.Cases", "CitySight.Delivery", "CitySight.Imaging"];
        foreach (var stage in stages)
        {
            var refs = ReferencesOf(stage);
            Assert.DoesNotContain("CitySight.Service", refs);
            Assert.DoesNotContain("CitySight.Configuration", refs);
        }
        // Upstream stages know nothing of those after them (the frame flows one way).
        Assert.DoesNotContain("CitySight.Inference", ReferencesOf("CitySight.Ingest"));
        Assert.DoesNotContain("CitySight.Ingest", ReferencesOf("CitySight.Inference"));
        Assert.DoesNotContain("CitySight.Tracking", ReferencesOf("CitySight.Rules"));
        Assert.DoesNotContain("CitySight.Cases", ReferencesOf("CitySight.Rules"));
    }

    [Fact]
    public void Every_src_project_has_its_own_test_project_and_the_solution_holds_them_all()
    {
        var sln = File.ReadAllText(Path.Combine(TestAssets.RepoRoot, "CitySight.sln"));
        foreach (var project in SrcProjects())
        {
            var tests = Path.Combine(TestAssets.RepoRoot, "tests", project + ".Tests", project + ".Tests.csproj");
            Assert.True(File.Exists(tests), $"{project} has no test project at tests/{project}.Tests");
            Assert.Contains(project + ".csproj", sln);
            Assert.Contains(project + ".Tests.csproj", sln);
        }
    }

    [Fact]
    public void No_source_file_grows_past_the_limit_without_saying_why()
    {
        // A file over ~450 lines must be one cohesive job and say so at its top ("one job" in its first comment lines).
        var over = Directory.GetFiles(Src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Where(f => File.ReadLines(f).Count() > 450)
            .Where(f => !File.ReadLines(f).Take(30).Any(l => l.TrimStart().StartsWith("//", StringComparison.Ordinal) && l.Contains("one job", StringComparison.OrdinalIgnoreCase)))
            .Select(f => Path.GetRelativePath(TestAssets.RepoRoot, f))
            .ToList();
        Assert.True(over.Count == 0, "over 450 lines with no reason given at the top: " + string.Join(", ", over));
    }

    [GeneratedRegex(@"CitySight\.[A-Za-z]+")]
    private static partial Regex ProjectName();
}
