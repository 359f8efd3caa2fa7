using CitySight.Domain;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Cases.Tests;

/// <summary>
/// The contract: the console's reads. The newest cases by state, type and group; counts by state, type and group;
/// the cases closed or rejected since a time, with who ended them.
/// </summary>
public abstract partial class CaseStoreContract
{
    private static readonly IReadOnlySet<CaseState> Final = new HashSet<CaseState> { CaseState.Closed, CaseState.Rejected };

    [Fact]
    public async Task Newest_cases_come_highest_sequence_first_by_state_type_and_group_up_to_the_limit()
    {
        var ids = new List<string>();
        for (var n = 0; n < 12; n++)
        {
            var c = await Store.OpenAsync(Case(n, n % 3 == 0 ? "garbage" : "illegal_parking") with { GroupId = n % 2 == 0 ? "g-even" : "g-odd" });
            ids.Add(c.Id);
        }
        // Closed and acknowledged ones interleaved with the open ones: the walk per state must still merge in order.
        await Store.TransitionAsync(ids[10], CaseState.Closed, DateTimeOffset.UtcNow);
        await Store.TransitionAsync(ids[7], CaseState.Acknowledged, DateTimeOffset.UtcNow);
        await Store.TransitionAsync(ids[4], CaseState.Rejected, DateTimeOffset.UtcNow);

        async Task<List<string>> Ids(CaseQuery q) => (await Store.NewestAsync(q)).Select(c => c.Id).ToList();
        Assert.Equal([ids[11], ids[9], ids[8], ids[7], ids[6]], await Ids(new CaseQuery { States = CaseQuery.OpenStates, Limit = 5 }));
        Assert.Equal([ids[11], ids[10], ids[9]], await Ids(new CaseQuery { Limit = 3 }));
        Assert.Equal([ids[10], ids[4]], await Ids(new CaseQuery { States = Final }));
        Assert.Equal([ids[9], ids[6], ids[3], ids[0]], await Ids(new CaseQuery { States = CaseQuery.OpenStates, CaseType = "garbage" }));
        Assert.Equal([ids[8], ids[6], ids[2], ids[0]], await Ids(new CaseQuery { States = CaseQuery.OpenStates, GroupId = "g-even" }));
        Assert.Equal([ids[6], ids[0]], await Ids(new CaseQuery { States = CaseQuery.OpenStates, CaseType = "garbage", GroupId = "g-even" }));
        Assert.Empty(await Ids(new CaseQuery { States = new HashSet<CaseState>() }));
        var newest = (await Store.NewestAsync(new CaseQuery { Limit = 1 })).Single();
        Assert.Empty(newest.Evidence);   // never the pictures with a list
        Assert.Equal("g-odd", newest.GroupId);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.NewestAsync(new CaseQuery { Limit = CaseQuery.MaxLimit + 1 }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.NewestAsync(new CaseQuery { Limit = 0 }));
    }

    [Fact]
    public async Task Newest_cases_raised_within_a_time_range_count_first_seen_for_a_case_never_raised()
    {
        var t = new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.FromHours(8));
        var early = await Store.OpenAsync(Case(1) with { RaisedAt = t });
        var middle = await Store.OpenAsync(Case(2) with { RaisedAt = t.AddHours(1) });
        var unraised = await Store.OpenAsync(Case(3) with { RaisedAt = null, FirstSeen = t.AddHours(2) });
        var late = await Store.OpenAsync(Case(4, "garbage") with { RaisedAt = t.AddHours(3).ToOffset(TimeSpan.Zero) });
        await Store.TransitionAsync(middle.Id, CaseState.Closed, DateTimeOffset.UtcNow);

        async Task<List<string>> Ids(CaseQuery q) => (await Store.NewestAsync(q)).Select(c => c.Id).ToList();
        Assert.Equal([unraised.Id, middle.Id], await Ids(new CaseQuery { RaisedSince = t.AddMinutes(30), RaisedUntil = t.AddHours(2) }));
        Assert.Equal([late.Id, unraised.Id], await Ids(new CaseQuery { States = CaseQuery.OpenStates, RaisedSince = t.AddMinutes(30) }));
        Assert.Equal([late.Id], await Ids(new CaseQuery { RaisedSince = t.AddHours(3), CaseType = "garbage" }));   // the same instant in UTC
        Assert.Equal([early.Id], await Ids(new CaseQuery { RaisedUntil = t.AddMinutes(59), GroupId = "xuhui-tianlin" }));
        Assert.Equal([late.Id], await Ids(new CaseQuery { RaisedSince = t, Limit = 1 }));
        Assert.Empty(await Ids(new CaseQuery { RaisedSince = t.AddHours(10) }));
    }

    [Fact]
    public async Task Counts_are_by_state_type_and_group_and_by_when_reported()
    {
        var a = await Store.OpenAsync(Case(1));
        await Store.OpenAsync(Case(2));
        await Store.OpenAsync(Case(3, "garbage") with { GroupId = "g-2", CaseTypeNameZh = "暴露垃圾", CaseTypeNameEn = "Exposed garbage" });
        await Store.TransitionAsync(a.Id, CaseState.Closed, DateTimeOffset.UtcNow);

        var open = await Store.CountAsync(CaseQuery.OpenStates, null);
        Assert.Equal(2, open.Count);
        var parking = Assert.Single(open, c => c.CaseType == "illegal_parking");
        Assert.Equal((CaseState.Reported, "xuhui-tianlin", 1, "机动车乱停放"), (parking.State, parking.GroupId, parking.Count, parking.TypeNameZh));
        var garbage = Assert.Single(open, c => c.CaseType == "garbage");
        Assert.Equal((CaseState.Reported, "g-2", 1, "暴露垃圾", "Exposed garbage"),
            (garbage.State, garbage.GroupId, garbage.Count, garbage.TypeNameZh, garbage.TypeNameEn));

        var all = await Store.CountAsync(null, null);
        Assert.Equal(3, all.Sum(c => c.Count));
        Assert.Equal(1, Assert.Single(all, c => c.State == CaseState.Closed).Count);
        // Reported at or after: every case here was reported within the last minute, none tomorrow.
        Assert.Equal(3, (await Store.CountAsync(null, DateTimeOffset.UtcNow.AddMinutes(-1))).Sum(c => c.Count));
        Assert.Empty(await Store.CountAsync(null, DateTimeOffset.UtcNow.AddDays(1)));
        Assert.Empty(await Store.CountAsync(new HashSet<CaseState>(), null));
    }

    [Fact]
    public async Task Decided_cases_are_those_closed_or_rejected_since_with_who_closed_them()
    {
        var closed = await Store.OpenAsync(Case(1));
        var rejected = await Store.OpenAsync(Case(2, "garbage"));
        var gone = await Store.OpenAsync(Case(3));
        var old = await Store.OpenAsync(Case(4));
        await Store.OpenAsync(Case(5));   // still open: not decided
        var reportedAt = closed.ReportedAt!.Value;
        await Store.TransitionAsync(closed.Id, CaseState.Acknowledged, reportedAt.AddMinutes(5));
        await Store.TransitionAsync(closed.Id, CaseState.Closed, reportedAt.AddMinutes(30), "moved on");
        await Store.TransitionAsync(rejected.Id, CaseState.Rejected, reportedAt.AddMinutes(12), "a shadow");
        Assert.True(await Store.CloseGoneAsync(gone.Id, reportedAt.AddMinutes(40), "gone: no camera has seen it"));
        await Store.TransitionAsync(old.Id, CaseState.Closed, reportedAt.AddDays(-2));

        var decided = await Store.DecidedAsync(reportedAt.AddHours(-1));
        Assert.Equal([(CaseState.Rejected, "garbage", false), (CaseState.Closed, "illegal_parking", false), (CaseState.Closed, "illegal_parking", true)],
            decided.Select(d => (d.State, d.CaseType, d.ClosedByCitySight)));
        Assert.Equal(TimeSpan.FromMinutes(30), decided[1].TimeToClose);
        Assert.Equal("xuhui-tianlin", decided[1].GroupId);
        Assert.Equal(4, (await Store.DecidedAsync(reportedAt.AddDays(-3))).Count);
        Assert.Empty(await Store.DecidedAsync(reportedAt.AddHours(1)));
        // And the same after a restart.
        Assert.True(Assert.Single(await Reopen().DecidedAsync(reportedAt.AddMinutes(35))).ClosedByCitySight);
    }
}
