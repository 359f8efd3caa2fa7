using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using CitySight.Configuration;
using CitySight.Tests;

namespace CitySight.Eval.Tests;

/// <summary>
/// The scenario suite as CI runs it: scenarios/make-media.sh builds the videos, <c>citysight eval scenarios</c> plays
/// every scenario through the real service and must score perfectly; and a scenario whose expectations are wrong must
/// make it fail. Scenario names and counts come from the scenarios folder and the JSON, never from here.
/// </summary>
public class EvalTests
{
    private static readonly string ScenariosDir = Path.Combine(TestAssets.RepoRoot, "scenarios");
    private static readonly string ConfigFile = Path.Combine(TestAssets.RepoRoot, "configs", "citysight.yaml");

    /// <summary>The whole suite may take minutes on a small machine, and it grows.</summary>
    private static readonly TimeSpan SuiteLimit = TimeSpan.FromMinutes(15);

    private static Task<(int Code, string Out, string Err)> Eval(TimeSpan limit, string dir, string media, string json) =>
        CitysightProcess.RunAsync(limit, "eval", dir, "--media", media, "--json", json, "--config", ConfigFile);

    private static IEnumerable<string> ScenarioFolders(string root) =>
        Directory.EnumerateDirectories(root).Where(d => File.Exists(Path.Combine(d, ScenarioLoader.FileName))).Order(StringComparer.Ordinal);

    [Fact]
    public async Task Every_scenario_scores_perfectly_each_event_matched_by_exactly_one_case()
    {
        var media = await ScenarioMedia.DirAsync();
        var json = Path.Combine(TestAssets.TempDir("eval-suite"), "scores.json");

        var (code, stdout, stderr) = await Eval(SuiteLimit, ScenariosDir, media, json);

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var totals = doc.RootElement.GetProperty("totals");
        var scenarios = doc.RootElement.GetProperty("scenarios").EnumerateArray().ToList();

        // Every scenario folder ran, in name order, and each printed its score.
        var folders = ScenarioFolders(ScenariosDir).ToList();
        Assert.NotEmpty(folders);
        Assert.Equal(folders.Select(Path.GetFileName), scenarios.Select(s => s.GetProperty("name").GetString()));
        foreach (var s in scenarios) Assert.Contains($"scenario {s.GetProperty("name").GetString()} (", stdout);

        Assert.Equal(1.0, totals.GetProperty("precision").GetDouble());
        Assert.Equal(1.0, totals.GetProperty("recall").GetDouble());
        Assert.Equal(0, totals.GetProperty("duplicates").GetInt32());
        Assert.Equal(0, totals.GetProperty("unmatched_cases").GetInt32());
        Assert.True(totals.GetProperty("perfect").GetBoolean());
        Assert.Equal(scenarios.Sum(s => s.GetProperty("events").GetArrayLength()), totals.GetProperty("events").GetInt32());
        Assert.Equal(scenarios.Sum(s => s.GetProperty("cases").GetArrayLength()), totals.GetProperty("cases").GetInt32());

        foreach (var (s, folder) in scenarios.Zip(folders))
        {
            var name = s.GetProperty("name").GetString();
            var events = s.GetProperty("events").EnumerateArray().ToList();
            var cases = s.GetProperty("cases").EnumerateArray().ToList();

            // The events scored are the scenario's own, all of them.
            var loaded = ScenarioLoader.Load(folder, media, ConfigLoader.LoadOrThrow(ConfigFile));
            using (loaded.Scenario)
            {
                Assert.True(loaded.Scenario is not null, string.Join("\n", loaded.Errors));
                Assert.Equal(loaded.Scenario.Expected.Select(e => (e.Index, e.Type)),
                    events.Select(e => (e.GetProperty("index").GetInt32(), e.GetProperty("type").GetString()!)));
            }

            // Each event matched by exactly one case, and each case matched to exactly one event: a one-to-one pairing.
            foreach (var e in events)
            {
                var ids = e.GetProperty("cases").EnumerateArray().Select(c => c.GetString()).ToList();
                Assert.True(ids.Count == 1, $"{name}: event #{e.GetProperty("index").GetInt32()} matched by {ids.Count} cases\n{stdout}");
                var c = Assert.Single(cases, c => c.GetProperty("id").GetString() == ids[0]);
                Assert.Equal(e.GetProperty("index").GetInt32(), c.GetProperty("event").GetInt32());
                Assert.False(c.GetProperty("duplicate").GetBoolean());
                Assert.Equal(e.GetProperty("type").GetString(), c.GetProperty("type").GetString());
                var raised = c.GetProperty("raised_at_s").GetDouble();
                Assert.InRange(raised, e.GetProperty("from_s").GetDouble(), e.GetProperty("until_s").GetDouble());
            }
            Assert.Equal(events.Count, cases.Count);
            var score = s.GetProperty("score");
            Assert.True(score.GetProperty("perfect").GetBoolean(), $"{name}\n{stdout}");
            Assert.Equal(events.Count, score.GetProperty("matched_events").GetInt32());
        }
        if (scenarios.Count > 1) Assert.Matches(@"(?m)^total\s+1\.000\s+1\.000\s+0\s", stdout);
    }

    [Fact]
    public async Task Wrong_expectations_fail_the_run_with_exit_1_a_missed_event_and_an_unmatched_case()
    {
        // Two scenarios of the suite, copied and made wrong: the parked bus's point moved off the bus (its case now matches
        // nothing and its event is missed), and traffic, where nothing happens, given an event no rule can raise so soon.
        var media = await ScenarioMedia.DirAsync();
        var root = TestAssets.TempDir("eval-wrong");
        var parked = Copy(Path.Combine(ScenariosDir, "parked"), Path.Combine(root, "parked"));
        var traffic = Copy(Path.Combine(ScenariosDir, "traffic"), Path.Combine(root, "traffic"));

        Rewrite(parked, text =>
        {
            var moved = Regex.Replace(text, @"(?m)^(\s*(?:-\s+)?at:\s*)\[[^\]]*\]", "$1[0.5, 0.02]");
            Assert.NotEqual(text, moved);
            return moved;
        });
        Rewrite(traffic, text =>
        {
            var camera = Regex.Match(text, @"(?m)^\s*-\s+id:\s*(\S+)").Groups[1].Value;
            Assert.NotEqual("", camera);
            var added = Regex.Replace(text, @"(?m)^expected:.*$",
                $"expected:\n  - {{type: illegal_parking, cameras: [{camera}], at: [0.5, 0.5], from: 0s, until: 0.5s}}");
            Assert.NotEqual(text, added);
            return added;
        });
        var json = Path.Combine(root, "scores.json");

        var (code, stdout, stderr) = await Eval(SuiteLimit, root, media, json);

        Assert.True(code == 1, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("MISSED", stdout);
        Assert.Contains("unmatched case", stdout);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var totals = doc.RootElement.GetProperty("totals");
        Assert.False(totals.GetProperty("perfect").GetBoolean());
        Assert.Equal(0.0, totals.GetProperty("recall").GetDouble());
        Assert.True(totals.GetProperty("precision").GetDouble() < 1);
        var byName = doc.RootElement.GetProperty("scenarios").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);

        var p = byName["parked"];
        Assert.True(p.GetProperty("cases").GetArrayLength() >= 1, "the bus is still parked: its case is still raised");
        Assert.All(p.GetProperty("cases").EnumerateArray(), c => Assert.Equal(JsonValueKind.Null, c.GetProperty("event").ValueKind));
        Assert.All(p.GetProperty("events").EnumerateArray(), e => Assert.Equal(0, e.GetProperty("cases").GetArrayLength()));
        Assert.Equal(0.0, p.GetProperty("score").GetProperty("precision").GetDouble());
        Assert.Equal(0.0, p.GetProperty("score").GetProperty("recall").GetDouble());
        Assert.Equal(p.GetProperty("cases").GetArrayLength(), p.GetProperty("score").GetProperty("unmatched_cases").GetInt32());

        var t = byName["traffic"];
        var missed = Assert.Single(t.GetProperty("events").EnumerateArray());
        Assert.Equal(0, missed.GetProperty("cases").GetArrayLength());
        Assert.Equal(0.0, t.GetProperty("score").GetProperty("recall").GetDouble());
        Assert.Matches(@"(?m)^scenario traffic .*\n.*recall 0\.000", stdout);
    }

    private static string Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, f));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(f, target);
        }
        return to;
    }

    private static void Rewrite(string folder, Func<string, string> change)
    {
        var file = Path.Combine(folder, ScenarioLoader.FileName);
        File.WriteAllText(file, change(File.ReadAllText(file)));
    }
}

/// <summary>
/// The scenario videos, built once per test run by scenarios/make-media.sh into a cache folder with a stable name under
/// the system temp folder, so reruns reuse what it built (the script keeps existing outputs, and puts its recipe
/// version in every name, so a changed recipe builds new files).
/// </summary>
internal static class ScenarioMedia
{
    private static readonly Lazy<Task<string>> Built = new(BuildAsync);

    public static Task<string> DirAsync() => Built.Value;

    private static async Task<string> BuildAsync()
    {
        var script = Path.Combine(TestAssets.RepoRoot, "scenarios", "make-media.sh");
        var dir = Path.Combine(Path.GetTempPath(), "citysight-tests", "scenario-media");

        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestAssets.RepoRoot };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(dir);
        psi.Environment["CITYSIGHT_ASSETS"] = TestAssets.Root;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"make-media.sh ran over 5 minutes; stderr so far:\n{await stderr}");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"make-media.sh {dir} exited {p.ExitCode}:\n{await stdout}\n{await stderr}");
        return dir;
    }
}
