using CitySight.Domain;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Cases.Tests;

/// <summary>The contract: reported → acknowledged → closed or rejected, with timestamps.</summary>
public abstract partial class CaseStoreContract
{
    private static readonly DateTimeOffset At = new(2026, 11, 23, 9, 0, 0, TimeSpan.FromHours(8));

    [Fact]
    public async Task A_new_case_is_reported_when_committed()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var c = await Store.OpenAsync(Case(1));

        Assert.Equal(CaseState.Reported, c.State);
        Assert.NotNull(c.ReportedAt);
        Assert.InRange(c.ReportedAt!.Value, before, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Null(c.AcknowledgedAt);
        Assert.Null(c.ClosedAt);
    }

    [Fact]
    public async Task The_frame_time_it_was_raised_is_kept_with_its_offset()
    {
        var raised = new DateTimeOffset(2026, 11, 23, 14, 10, 5, 250, TimeSpan.FromHours(8));
        var c = await Store.OpenAsync(Case(1) with { RaisedAt = raised });
        var stored = (await Store.GetAsync(c.Id))!;
        Assert.Equal(raised, stored.RaisedAt);
        Assert.Equal(raised.Offset, stored.RaisedAt!.Value.Offset);
        Assert.Null((await Store.GetAsync((await Store.OpenAsync(Case(2))).Id))!.RaisedAt);
    }

    [Fact]
    public async Task Acknowledged_then_closed_keeps_both_times_and_the_note()
    {
        var c = await Store.OpenAsync(Case(2));

        var acked = await Store.TransitionAsync(c.Id, CaseState.Acknowledged, At);
        var closed = await Store.TransitionAsync(c.Id, CaseState.Closed, At.AddMinutes(42), "vehicle moved on by officer 0231");

        Assert.Equal(CaseState.Acknowledged, acked.State);
        Assert.Equal(CaseState.Closed, closed.State);
        Assert.Equal(At, closed.AcknowledgedAt);
        Assert.Equal(At.AddMinutes(42), closed.ClosedAt);
        Assert.Equal("vehicle moved on by officer 0231", closed.StateNote);
        // And it is what a reader sees after a restart.
        var reopened = Reopen();
        Assert.Equal(closed with { Evidence = [] }, (await reopened.GetAsync(c.Id))! with { Evidence = [] });
    }

    [Fact]
    public async Task A_reported_case_may_be_rejected_directly_and_saying_it_twice_changes_nothing()
    {
        var c = await Store.OpenAsync(Case(3));

        var rejected = await Store.TransitionAsync(c.Id, CaseState.Rejected, At, "shadow, not a car");
        var again = await Store.TransitionAsync(c.Id, CaseState.Rejected, At.AddHours(1), "resent");

        Assert.Equal(rejected, again);
        Assert.Equal(At, again.ClosedAt);
    }

    [Theory]
    [InlineData(CaseState.Closed, CaseState.Acknowledged)]
    [InlineData(CaseState.Rejected, CaseState.Closed)]
    [InlineData(CaseState.Closed, CaseState.Reported)]
    [InlineData(CaseState.Acknowledged, CaseState.Reported)]
    public async Task Backward_steps_are_refused_with_the_case_and_both_states(CaseState reached, CaseState then)
    {
        var c = await Store.OpenAsync(Case(4));
        if (reached == CaseState.Closed || reached == CaseState.Rejected) await Store.TransitionAsync(c.Id, CaseState.Acknowledged, At);
        await Store.TransitionAsync(c.Id, reached, At.AddMinutes(1));

        var ex = await Assert.ThrowsAsync<InvalidCaseTransitionException>(() => Store.TransitionAsync(c.Id, then, At.AddMinutes(2)));

        Assert.Contains(c.Id, ex.Message);
        Assert.Contains(reached.ToString().ToLowerInvariant(), ex.Message);
        Assert.Equal(reached, (await Store.GetAsync(c.Id))!.State);
    }

    [Fact]
    public async Task An_unknown_case_is_named()
    {
        var ex = await Assert.ThrowsAsync<KeyNotFoundException>(() => Store.TransitionAsync("no-such-case", CaseState.Closed, At));
        Assert.Contains("no-such-case", ex.Message);
    }

    [Fact]
    public async Task Closed_and_rejected_cases_are_not_handed_back_as_open_after_a_restart()
    {
        var open = await Store.OpenAsync(Case(5));
        var acked = await Store.OpenAsync(Case(6));
        var closed = await Store.OpenAsync(Case(7));
        var rejected = await Store.OpenAsync(Case(8));
        await Store.TransitionAsync(acked.Id, CaseState.Acknowledged, At);
        await Store.TransitionAsync(closed.Id, CaseState.Closed, At);
        await Store.TransitionAsync(rejected.Id, CaseState.Rejected, At);

        var since = await Store.OpenSinceAsync(DateTimeOffset.MinValue);

        Assert.Equal([open.Id, acked.Id], since.Select(c => c.Id));
    }
}
