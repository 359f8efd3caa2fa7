using System.Text.Json;
using CitySight.Configuration;

namespace CitySight.Eval;

/// <summary>
/// <c>citysight eval</c> once its arguments are parsed: loads every scenario (all of them before any runs), plays each
/// through the real service, prints its score, the totals, and the optional JSON. Exit 0: every event matched exactly
/// once and no unmatched case; 1: otherwise; 2: a scenario invalid or a run failed.
/// </summary>
public static class EvalRunner
{
    public static async Task<int> RunAsync(IReadOnlyList<string> folders, string? mediaDir, CitySightConfig baseConfig, string? jsonPath, CancellationToken ct)
    {
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
        if (jsonPath is not null)
        {
            var doc = new { totals, scenarios = results };
            await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(doc, Report.Json), ct);
        }
        return totals.Perfect ? 0 : 1;
    }
}
