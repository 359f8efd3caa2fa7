using CitySight.Rules;
using CitySight.Configuration;
using CitySight.Domain;
using CitySight.Tests;

namespace CitySight.Eval.Tests;

/// <summary>
/// <see cref="Score.Match"/> on hand-made cases: which case matches which expected event (type, camera, box within
/// 0.05 of the point, raised within [from, until] in video time), and precision, recall and duplicates as Score.cs
/// defines them. No service runs; the scenario is constructed directly.
/// </summary>
public class ScenarioScoringTests
{
    /// <summary>Capture time of cam-a's first frame; cam-b's file starts 100 s later.</summary>
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 8, 0, 0, TimeSpan.FromHours(8));
    private static readonly Dictionary<string, DateTimeOffset> Anchors = new() { ["cam-a"] = T0, ["cam-b"] = T0.AddSeconds(100) };

    /// <summary>The rules' dwell. Cases below are raised <see cref="Dwell"/> after they were first seen, as the rules raise them.</summary>
    private static readonly TimeSpan Dwell = TimeSpan.FromSeconds(10);

    private const int W = 1000, H = 1000;

    /// <summary>illegal_parking on cam-a, at (0.5, 0.5), raised between 10 s and 20 s of video time.</summary>
    private static ExpectedEvent Event(int index = 0, string type = "illegal_parking", string[]? cameras = null, double x = 0.5, double y = 0.5,
        double from = 10, double until = 20) =>
        new(index, 10 + index * 5, type, cameras ?? ["cam-a"], x, y, TimeSpan.FromSeconds(from), TimeSpan.FromSeconds(until));

    /// <summary>
    /// A case with its box in normalised units (of a W×H image), raised at <paramref name="raisedS"/> s of its camera's
    /// video time and first seen a dwell earlier.
    /// </summary>
    private static Case Raised(string id, double raisedS, double x1 = 0.4, double y1 = 0.4, double x2 = 0.6, double y2 = 0.6,
        string type = "illegal_parking", string camera = "cam-a", long sequence = 0)
    {
        var raised = Anchors[camera] + TimeSpan.FromSeconds(raisedS);
        return new Case
        {
            Id = id,
            Sequence = sequence,
            CaseType = type,
            CameraId = camera,
            GroupId = "eval",
            FirstSeen = raised - Dwell,
            LastSeen = raised + TimeSpan.FromSeconds(5),
            RaisedAt = raised,
            Box = new Box((float)(x1 * W), (float)(y1 * H), (float)(x2 * W), (float)(y2 * H)),
            ImageWidth = W,
            ImageHeight = H,
            Confidence = 0.8f,
            ClassName = "bus",
        };
    }

    private static ScenarioResult Match(IReadOnlyList<ExpectedEvent> expected, IReadOnlyList<Case> cases, TimeSpan? dwell = null)
    {
        var config = new CitySightConfig
        {
            SourceFile = "scenario.yaml",
            Rules = new RuleOptions
            {
                CaseTypes = new Dictionary<string, CaseTypeRuleOverrides>
                {
                    ["illegal_parking"] = new() { MinDwell = dwell ?? Dwell },
                    ["garbage"] = new() { MinDwell = dwell ?? Dwell },
                },
            },
        };
        var dir = TestAssets.TempDir("eval-score");
        using var scenario = new Scenario("hand-made", dir, config, expected, dir);
        return Score.Match(scenario, cases, Anchors, 1.234);
    }

    [Fact]
    public void A_case_whose_box_holds_the_point_and_raised_in_the_window_matches_its_event()
    {
        var r = Match([Event()], [Raised("c1", 15)]);

        var c = Assert.Single(r.Cases);
        Assert.Equal(0, c.Event);
        Assert.False(c.Duplicate);
        Assert.Equal(15, c.RaisedAtS);
        Assert.Equal(5, c.FirstSeenS);
        Assert.Equal([0.4, 0.4, 0.6, 0.6], c.BoxNormalised);
        Assert.Equal(["c1"], Assert.Single(r.Events).Cases);
        Assert.Equal(new Score(1, 1, 1, 1, 0, 0), r.Score);
        Assert.Equal(1, r.Score.Precision);
        Assert.Equal(1, r.Score.Recall);
        Assert.True(r.Score.Perfect);
        Assert.Equal("hand-made", r.Name);
        Assert.Equal(1.23, r.WallSeconds);
    }

    [Theory]
    [InlineData(0.64, 0.5, true)]    // 0.04 right of the box
    [InlineData(0.66, 0.5, false)]   // 0.06 right
    [InlineData(0.5, 0.36, true)]    // 0.04 above
    [InlineData(0.5, 0.34, false)]   // 0.06 above
    [InlineData(0.36, 0.5, true)]    // 0.04 left
    [InlineData(0.5, 0.66, false)]   // 0.06 below
    [InlineData(0.635, 0.635, true)] // 0.035 off on both axes: 0.0495 away
    [InlineData(0.64, 0.64, false)]  // 0.04 off on both axes: 0.0566 away (the distance is Euclidean, not per axis)
    [InlineData(0.4, 0.6, true)]     // on the box's corner
    public void A_point_outside_the_box_matches_only_within_0_05_of_it(double x, double y, bool matches)
    {
        var r = Match([Event(x: x, y: y)], [Raised("c1", 15)]);

        Assert.Equal(matches ? 0 : null, Assert.Single(r.Cases).Event);
        Assert.Equal(matches ? 1 : 0, r.Score.MatchedEvents);
        Assert.Equal(matches ? 0 : 1, r.Score.UnmatchedCases);
        Assert.Equal(matches, r.Score.Perfect);
    }

    [Fact]
    public void The_box_is_normalised_by_the_case_s_own_image_size()
    {
        // 640×480: the box [256, 288, 384, 384] px is [0.4, 0.6, 0.6, 0.8]; the event's point (0.5, 0.7) is inside it,
        // while in pixels divided by 1000 it would be far away.
        var c = Raised("c1", 15) with { Box = new Box(256, 288, 384, 384), ImageWidth = 640, ImageHeight = 480 };

        var r = Match([Event(x: 0.5, y: 0.7)], [c]);

        Assert.Equal(0, Assert.Single(r.Cases).Event);
        Assert.Equal([0.4, 0.6, 0.6, 0.8], r.Cases[0].BoxNormalised);
        Assert.Equal([256.0, 288.0, 384.0, 384.0], r.Cases[0].Box);
    }

    [Fact]
    public void A_case_of_another_type_does_not_match()
    {
        var r = Match([Event()], [Raised("c1", 15, type: "garbage")]);

        Assert.Null(Assert.Single(r.Cases).Event);
        Assert.Empty(r.Events[0].Cases);
        Assert.Equal(new Score(1, 1, 0, 0, 0, 1), r.Score);
        Assert.Equal(0, r.Score.Precision);
        Assert.Equal(0, r.Score.Recall);
        Assert.False(r.Score.Perfect);
    }

    [Fact]
    public void A_case_on_a_camera_the_event_does_not_list_does_not_match_and_one_it_lists_does()
    {
        var r = Match([Event(cameras: ["cam-a"])], [Raised("on-b", 15, camera: "cam-b")]);
        Assert.Null(Assert.Single(r.Cases).Event);
        Assert.Equal(1, r.Score.UnmatchedCases);

        r = Match([Event(cameras: ["cam-a", "cam-b"])], [Raised("on-b", 15, camera: "cam-b")]);
        Assert.Equal(0, Assert.Single(r.Cases).Event);
        Assert.True(r.Score.Perfect);
    }

    [Theory]
    [InlineData(9.5, false)]  // before from
    [InlineData(10, true)]    // at from: the window is closed
    [InlineData(20, true)]    // at until
    [InlineData(20.5, false)] // after until
    public void A_case_matches_only_when_raised_within_from_and_until(double raisedS, bool matches)
    {
        var r = Match([Event(from: 10, until: 20)], [Raised("c1", raisedS)]);

        Assert.Equal(raisedS, r.Cases[0].RaisedAtS);
        Assert.Equal(matches ? 0 : null, r.Cases[0].Event);
        Assert.Equal(matches ? 1.0 : 0.0, r.Score.Recall);
        Assert.Equal(matches ? 1.0 : 0.0, r.Score.Precision);
    }

    [Fact]
    public void The_raise_time_is_in_the_case_s_own_camera_s_video_time()
    {
        // cam-b's file starts 100 s after cam-a's: 15 s into cam-b is 115 s after cam-a's start.
        var r = Match([Event(cameras: ["cam-a", "cam-b"])], [Raised("on-b", 15, camera: "cam-b")]);

        Assert.Equal(15, r.Cases[0].RaisedAtS);
        Assert.Equal(0, r.Cases[0].Event);
    }

    [Fact]
    public void The_raise_time_is_the_case_s_raised_at_not_first_seen_plus_the_rule_s_dwell()
    {
        // First seen at 2 s and the rules' dwell 0 (2 s, outside 10..20), but raised at 15 s (inside): RaisedAt decides.
        var c = Raised("c1", 15) with { FirstSeen = T0.AddSeconds(2) };

        var r = Match([Event(from: 10, until: 20)], [c], dwell: TimeSpan.Zero);

        Assert.Equal(15, r.Cases[0].RaisedAtS);
        Assert.Equal(2, r.Cases[0].FirstSeenS);
        Assert.Equal(0, r.Cases[0].Event);
    }

    [Theory]
    [InlineData(15, true)] // first seen at 15 s: in 10..20
    [InlineData(5, false)] // first seen at 5 s: a dwell of 10 s is not added, so it is before from
    public void A_case_without_raised_at_is_taken_as_raised_when_first_seen(double firstSeenS, bool matches)
    {
        var c = Raised("old", 0) with { RaisedAt = null, FirstSeen = T0.AddSeconds(firstSeenS) };

        var r = Match([Event(from: 10, until: 20)], [c]);

        Assert.Equal(firstSeenS, r.Cases[0].RaisedAtS);
        Assert.Equal(matches ? 0 : null, r.Cases[0].Event);
    }

    [Fact]
    public void A_second_case_on_a_matched_event_is_a_duplicate_and_counts_as_matched_for_precision()
    {
        // Given out of order: the case raised first owns the event, the later one is the duplicate.
        var r = Match([Event()], [Raised("late", 18, sequence: 1), Raised("early", 12, sequence: 2)]);

        Assert.Equal(["early", "late"], r.Cases.Select(c => c.Id));
        Assert.False(r.Cases[0].Duplicate);
        Assert.True(r.Cases[1].Duplicate);
        Assert.Equal(0, r.Cases[1].Event);
        Assert.Equal(["early", "late"], Assert.Single(r.Events).Cases);
        Assert.Equal(new Score(Cases: 2, Events: 1, MatchedCases: 2, MatchedEvents: 1, Duplicates: 1, UnmatchedCases: 0), r.Score);
        Assert.Equal(1, r.Score.Precision);
        Assert.Equal(1, r.Score.Recall);
        Assert.False(r.Score.Perfect);
    }

    [Fact]
    public void Cases_raised_at_the_same_time_are_ordered_by_their_store_sequence()
    {
        var r = Match([Event()], [Raised("second", 15, sequence: 7), Raised("first", 15, sequence: 3)]);

        Assert.Equal(["first", "second"], r.Events[0].Cases);
        Assert.True(r.Cases.Single(c => c.Id == "second").Duplicate);
    }

    [Fact]
    public void A_case_that_fits_two_events_takes_the_first_unmatched_one_in_file_order()
    {
        // Two buses side by side, both points inside one wide box: two cases are two events, not a duplicate.
        var r = Match([Event(0, x: 0.45), Event(1, x: 0.55)], [Raised("a", 12), Raised("b", 14)]);

        Assert.Equal(["a"], r.Events[0].Cases);
        Assert.Equal(["b"], r.Events[1].Cases);
        Assert.Equal(new Score(2, 2, 2, 2, 0, 0), r.Score);
        Assert.True(r.Score.Perfect);
    }

    [Fact]
    public void Pairing_is_one_to_one_at_its_best_not_first_come()
    {
        // "a" (a wide box) fits both events; "b" (a narrow one, on the left) fits only event 0. First come would give
        // event 0 to "a" and call "b" a duplicate, with event 1 missed; the best pairing matches both.
        var r = Match([Event(0, x: 0.45), Event(1, x: 0.55)], [Raised("a", 12), Raised("b", 14, 0.42, 0.4, 0.46, 0.6)]);

        Assert.Equal(["b"], r.Events[0].Cases);
        Assert.Equal(["a"], r.Events[1].Cases);
        Assert.Equal(new Score(2, 2, 2, 2, 0, 0), r.Score);
    }

    [Fact]
    public void A_missed_event_lowers_recall_and_an_unmatched_case_lowers_precision()
    {
        // Event 0 is matched; event 1 (far corner) is missed; case "stray" (the far other corner) matches nothing.
        var r = Match(
            [Event(0), Event(1, x: 0.05, y: 0.05)],
            [Raised("hit", 15), Raised("stray", 15, 0.8, 0.8, 0.95, 0.95)]);

        Assert.Equal(new Score(Cases: 2, Events: 2, MatchedCases: 1, MatchedEvents: 1, Duplicates: 0, UnmatchedCases: 1), r.Score);
        Assert.Equal(0.5, r.Score.Precision);
        Assert.Equal(0.5, r.Score.Recall);
        Assert.Empty(r.Events[1].Cases);
        Assert.Null(r.Cases.Single(c => c.Id == "stray").Event);
        Assert.False(r.Score.Perfect);
    }

    [Fact]
    public void Only_missed_events_and_no_cases_give_precision_1_and_recall_0()
    {
        var r = Match([Event(0), Event(1, x: 0.2)], []);

        Assert.Equal(new Score(0, 2, 0, 0, 0, 0), r.Score);
        Assert.Equal(1, r.Score.Precision);
        Assert.Equal(0, r.Score.Recall);
        Assert.False(r.Score.Perfect);
    }

    [Fact]
    public void No_cases_and_no_events_is_perfect()
    {
        var r = Match([], []);

        Assert.Empty(r.Cases);
        Assert.Empty(r.Events);
        Assert.Equal(new Score(0, 0, 0, 0, 0, 0), r.Score);
        Assert.Equal(1, r.Score.Precision);
        Assert.Equal(1, r.Score.Recall);
        Assert.True(r.Score.Perfect);
    }

    [Fact]
    public void A_case_when_none_is_expected_is_not_perfect()
    {
        var r = Match([], [Raised("false-alarm", 15)]);

        Assert.Equal(new Score(1, 0, 0, 0, 0, 1), r.Score);
        Assert.Equal(0, r.Score.Precision);
        Assert.Equal(1, r.Score.Recall);
        Assert.False(r.Score.Perfect);
    }

    [Fact]
    public void The_total_sums_the_scenarios_counts_and_is_perfect_only_when_each_is()
    {
        var perfect = Match([Event()], [Raised("c1", 15)]);
        var duplicated = Match([Event()], [Raised("c2", 12), Raised("c3", 14)]);
        var missed = Match([Event(0), Event(1, x: 0.1, y: 0.1)], [Raised("c4", 15)]);

        var t = Score.Total([perfect, duplicated, missed]);

        Assert.Equal(new Score(Cases: 4, Events: 4, MatchedCases: 4, MatchedEvents: 3, Duplicates: 1, UnmatchedCases: 0), t);
        Assert.Equal(1, t.Precision);
        Assert.Equal(0.75, t.Recall);
        Assert.False(t.Perfect);
        Assert.True(Score.Total([perfect, perfect]).Perfect);
        Assert.True(Score.Total([]).Perfect);
    }
}
