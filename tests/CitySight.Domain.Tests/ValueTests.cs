namespace CitySight.Domain.Tests;

/// <summary>The small value types every stage relies on: boxes, case states, backoff.</summary>
public class ValueTests
{
    [Fact]
    public void Box_IoU_is_one_for_itself_zero_apart_and_a_third_for_half_overlap()
    {
        var a = new Box(0, 0, 10, 10);
        Assert.Equal(1f, a.IoU(a), 5);
        Assert.Equal(0f, a.IoU(new Box(10, 0, 20, 10)));
        // 50 shared of 150 covered.
        Assert.Equal(1f / 3, a.IoU(new Box(5, 0, 15, 10)), 5);
    }

    [Fact]
    public void An_inverted_box_has_no_area_and_overlaps_nothing()
    {
        var inverted = new Box(10, 10, 0, 0);
        Assert.Equal(0f, inverted.Area);
        Assert.Equal(0f, new Box(0, 0, 10, 10).IoU(inverted));
    }

    [Fact]
    public void Bottom_centre_is_where_the_object_meets_the_ground()
    {
        var p = new Box(100, 50, 300, 400).BottomCentre(800, 400);
        Assert.Equal(0.25, p.X, 6);
        Assert.Equal(1.0, p.Y, 6);
    }

    [Theory]
    [InlineData(CaseState.Candidate, CaseState.Reported, true)]
    [InlineData(CaseState.Reported, CaseState.Acknowledged, true)]
    [InlineData(CaseState.Reported, CaseState.Rejected, true)]
    [InlineData(CaseState.Acknowledged, CaseState.Closed, true)]
    [InlineData(CaseState.Acknowledged, CaseState.Reported, false)]
    [InlineData(CaseState.Closed, CaseState.Acknowledged, false)]
    [InlineData(CaseState.Rejected, CaseState.Closed, false)]
    [InlineData(CaseState.Candidate, CaseState.Closed, false)]
    public void Cases_move_forward_only(CaseState from, CaseState to, bool allowed) => Assert.Equal(allowed, from.CanMoveTo(to));

    [Fact]
    public void Only_closed_and_rejected_are_final()
    {
        Assert.Equal([CaseState.Closed, CaseState.Rejected], Enum.GetValues<CaseState>().Where(s => s.IsFinal()));
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(3, 8.0)]
    [InlineData(10, 30.0)]
    [InlineData(1000, 30.0)]
    public void Backoff_doubles_up_to_its_ceiling_within_the_jitter(int retry, double expectedSeconds)
    {
        for (var i = 0; i < 200; i++)
        {
            var wait = Backoff.Exponential(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), retry, jitter: 0.2).TotalSeconds;
            Assert.InRange(wait, expectedSeconds * 0.8 - 1e-9, expectedSeconds * 1.2 + 1e-9);
        }
    }

    [Fact]
    public void Backoff_that_must_never_be_sooner_never_undercuts_the_configured_wait()
    {
        for (var i = 0; i < 200; i++)
            Assert.InRange(Backoff.Exponential(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2), 5, jitter: 0.5, neverSooner: true).TotalSeconds, 2.0, 4.0);
    }

    [Fact]
    public void Every_default_case_type_has_a_code_and_both_names()
    {
        Assert.Contains(CaseType.Defaults, t => t.Id == "illegal_parking");
        Assert.All(CaseType.Defaults, t =>
        {
            Assert.NotEmpty(t.Code);
            Assert.NotEmpty(t.NameZh);
            Assert.NotEmpty(t.NameEn);
        });
        Assert.Equal(CaseType.Defaults.Count, CaseType.Defaults.Select(t => t.Id).Distinct().Count());
    }
}
