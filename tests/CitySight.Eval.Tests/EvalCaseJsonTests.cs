using System.Text.Json;
using CitySight.Domain;

namespace CitySight.Eval.Tests;

/// <summary>The eval JSON of a case (<see cref="EvalCaseJson"/>): a case written as <c>eval --json</c> writes it reads back field for field.</summary>
public class EvalCaseJsonTests
{
    private static readonly DateTimeOffset Anchor = new(2026, 3, 1, 8, 0, 0, TimeSpan.FromHours(8));

    private static Case SampleCase() => new()
    {
        Id = "c-000042",
        Sequence = 42,
        CaseType = "illegal_parking",
        CameraId = "cam-a",
        GroupId = "eval",
        FirstSeen = Anchor.AddSeconds(12.25),
        LastSeen = Anchor.AddSeconds(40),
        RaisedAt = Anchor.AddSeconds(22.5),
        Box = new Box(100.5f, 200.25f, 300.75f, 400f),
        ImageWidth = 1000,
        ImageHeight = 800,
        Confidence = 0.87f,
        ClassName = "car",
    };

    private static string ToJson(ScoredCase c) => JsonSerializer.Serialize(c, Report.Json);

    [Theory]
    [InlineData(3, false)]
    [InlineData(0, true)]
    [InlineData(null, false)]
    public void A_scored_case_written_as_eval_json_reads_back_with_every_field_equal(int? @event, bool duplicate)
    {
        var c = SampleCase();
        var scored = EvalCaseJson.Of(c, c.RaisedAt!.Value - Anchor, Anchor, [0.1005, 0.2503125, 0.30071, 0.5], @event, duplicate);

        var back = JsonSerializer.Deserialize<ScoredCase>(ToJson(scored), Report.Json)!;

        // The case's own fields.
        Assert.Equal(c.Id, back.Id);
        Assert.Equal(c.CaseType, back.Type);
        Assert.Equal(c.CameraId, back.Camera);
        Assert.Equal(new double[] { c.Box.X1, c.Box.Y1, c.Box.X2, c.Box.Y2 }, back.Box);
        Assert.Equal(c.Confidence, back.Confidence);
        Assert.Equal(c.ClassName, back.ClassName);
        // Its scoring, in video time.
        Assert.Equal(22.5, back.RaisedAtS);
        Assert.Equal(12.25, back.FirstSeenS);
        Assert.Equal([0.1005, 0.2503, 0.3007, 0.5], back.BoxNormalised);
        Assert.Equal(@event, back.Event);
        Assert.Equal(duplicate, back.Duplicate);
        // And the whole record again, arrays by value.
        Assert.Equal(scored with { Box = [], BoxNormalised = [] }, back with { Box = [], BoxNormalised = [] });
        Assert.Equal(scored.Box, back.Box);
        Assert.Equal(scored.BoxNormalised, back.BoxNormalised);
    }

    [Fact]
    public void The_eval_json_of_a_case_has_exactly_the_documented_fields_in_order_with_a_null_event_when_unmatched()
    {
        var c = SampleCase();
        var json = ToJson(EvalCaseJson.Of(c, TimeSpan.FromSeconds(5), Anchor, [0, 0, 1, 1], null, false));

        using var doc = JsonDocument.Parse(json);
        Assert.Equal(EvalCaseJson.Fields, doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("event").ValueKind);
    }

    [Fact]
    public void Eval_json_scenarios_write_their_cases_through_the_one_mapping()
    {
        var c = SampleCase();
        var scored = EvalCaseJson.Of(c, TimeSpan.FromSeconds(5), Anchor, [0, 0, 1, 1], 1, false);
        var result = new ScenarioResult("s", "/s", 1.5, new Score(1, 1, 1, 1, 0, 0), [scored], []);

        using var doc = JsonDocument.Parse(JsonSerializer.Serialize(new { scenarios = new[] { result } }, Report.Json));
        var written = doc.RootElement.GetProperty("scenarios")[0].GetProperty("cases")[0];

        Assert.Equal(ToJson(scored), JsonSerializer.Serialize(written, new JsonSerializerOptions { WriteIndented = true }));
        Assert.Equal(scored.Id, EvalCaseJson.Read(written).Id);
    }
}
