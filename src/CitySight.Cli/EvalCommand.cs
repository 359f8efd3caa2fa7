using System.CommandLine;
using System.Text.Json;
using CitySight.Cli.Eval;

namespace CitySight.Cli;

/// <summary>
/// <c>citysight eval DIR</c>: plays a scenario folder (or a folder of them) through the real pipeline as fast as it
/// decodes and scores the cases against the scenario's expected events. Exit 0: every event matched exactly once and
/// no unmatched case; 1: otherwise; 2: bad input.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("SCENARIO_DIR") { Description = "A scenario folder (with scenario.yaml) or a folder of scenario folders" };
        var json = new Option<string?>("--json") { Description = "Write the scores, matched and unmatched cases and events to this file" };
        var media = new Option<string?>("--media")
        {
            Description = "Folder to look for scenario videos in when they are not beside scenario.yaml (default: $CITYSIGHT_SCENARIO_MEDIA); scenarios/make-media.sh builds it",
        };
        var config = ConfigPaths.ConfigOption();
        var cmd = new Command("eval", "Run scenario videos through the real pipeline and print precision, recall and duplicates against their expected events")
        {
            dir, json, media, config,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var root = parse.GetValue(dir)!;
            var mediaDir = parse.GetValue(media) ?? (Environment.GetEnvironmentVariable("CITYSIGHT_SCENARIO_MEDIA") is { Length: > 0 } m ? m : null);
            var folders = ScenarioFolders(root);
            if (folders is null)
            {
                Console.Error.WriteLine($"eval: {root} holds no scenario.yaml, and no folder in it does");
                return 2;
            }
            var baseConfig = ConfigPaths.LoadOrReport(ConfigPaths.Resolve(parse.GetValue(config)));
            if (baseConfig is null) return 2;

            // Load every scenario first: a typo in the last one should not wait for the first one's run.
            var scenarios = new List<Scenario>();
            var bad = false;
            foreach (var folder in folders)
            {
                var loaded = ScenarioLoader.Load(folder, mediaDir, baseConfig);
                foreach (var e in loaded.Errors) Console.Error.WriteLine(e);
                if (loaded.Scenario is null) bad = true;
                else scenarios.Add(loaded.Scenario);
            }
            if (bad)
            {
                foreach (var s in scenarios) s.Dispose();
                Console.Error.WriteLine("eval: scenario invalid; nothing was run");
                return 2;
            }

            var results = new List<ScenarioResult>();
            try
            {
                foreach (var s in scenarios)
                {
                    var result = await ScenarioRunner.RunAsync(s, ct);
                    results.Add(result);
                    Report.Print(result);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Console.Error.WriteLine($"eval: {ex.Message}");
                return 2;
            }
            finally
            {
                foreach (var s in scenarios) s.Dispose();
            }
            var totals = Score.Total(results);
            if (results.Count > 1) Report.PrintTotals(results, totals);
            if (parse.GetValue(json) is { } jsonPath)
            {
                var doc = new { totals, scenarios = results };
                await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(doc, Report.Json), ct);
            }
            return totals.Perfect ? 0 : 1;
        });
        return cmd;
    }

    /// <summary>The folder itself when it is a scenario, else its sub-folders that are, by name; null when none.</summary>
    private static List<string>? ScenarioFolders(string root)
    {
        if (!Directory.Exists(root)) return null;
        if (File.Exists(Path.Combine(root, ScenarioLoader.FileName))) return [root];
        var subs = Directory.EnumerateDirectories(root)
            .Where(d => File.Exists(Path.Combine(d, ScenarioLoader.FileName)))
            .Order(StringComparer.Ordinal)
            .ToList();
        return subs.Count > 0 ? subs : null;
    }
}
