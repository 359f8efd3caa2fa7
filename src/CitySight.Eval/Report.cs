using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CitySight.Eval;

/// <summary>What eval prints per scenario and in total, and the options its JSON is written with.</summary>
public static class Report
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new EvalCaseJson.Converter() },
    };

    private static string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);

    public static void Print(ScenarioResult r)
    {
        var s = r.Score;
        Console.WriteLine($"scenario {r.Name} ({r.WallSeconds:0.0} s)");
        Console.WriteLine($"  precision {F(s.Precision)}  recall {F(s.Recall)}  duplicates {s.Duplicates}  cases {s.Cases}  events {s.Events}  unmatched cases {s.UnmatchedCases}");
        foreach (var e in r.Events)
            Console.WriteLine($"  event #{e.Index} {e.Type} at [{e.At[0]}, {e.At[1]}] {e.FromS}s..{e.UntilS}s: " +
                              (e.Cases.Count == 0 ? "MISSED" : e.Cases.Count == 1 ? $"case {e.Cases[0]}" : $"cases {string.Join(", ", e.Cases)} (duplicates)"));
        foreach (var c in r.Cases.Where(c => c.Event is null))
            Console.WriteLine($"  unmatched case {c.Id} {c.Type} on {c.Camera} raised at {c.RaisedAtS:0.0}s ({c.ClassName}, box [{string.Join(", ", c.BoxNormalised)}])");
    }

    public static void PrintTotals(IReadOnlyList<ScenarioResult> results, Score t)
    {
        var w = Math.Max(8, results.Max(r => r.Name.Length));
        Console.WriteLine();
        Console.WriteLine($"{"scenario".PadRight(w)} {"precision",9} {"recall",7} {"dup",4} {"cases",5} {"events",6}");
        foreach (var r in results)
            Console.WriteLine($"{r.Name.PadRight(w)} {F(r.Score.Precision),9} {F(r.Score.Recall),7} {r.Score.Duplicates,4} {r.Score.Cases,5} {r.Score.Events,6}");
        Console.WriteLine($"{"total".PadRight(w)} {F(t.Precision),9} {F(t.Recall),7} {t.Duplicates,4} {t.Cases,5} {t.Events,6}");
    }
}
