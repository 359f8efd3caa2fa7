using CitySight.Domain;
using CitySight.Ingest.Patrol;

namespace CitySight.Ingest.Tests;

public class PatrolPlanTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    private static List<Camera> Cameras(int n, TimeSpan interval) =>
        Enumerable.Range(0, n).Select(i => new Camera { Id = $"c{i}", Name = "c", GroupId = "g", Url = $"rtsp://h/{i}", SampleInterval = interval, Mode = IngestMode.Patrol }).ToList();

    /// <summary>
    /// Discrete-event run of the plan: <paramref name="slots"/> visits in flight, each taking <paramref name="visit"/>;
    /// <paramref name="fails"/> says which visits fail. Returns the plan after <paramref name="duration"/> of simulated time.
    /// </summary>
    private static PatrolPlan Simulate(List<Camera> cams, int slots, TimeSpan visit, TimeSpan duration, Func<PatrolEntry, bool>? fails = null)
    {
        var plan = new PatrolPlan(cams, T0);
        var inFlight = new PriorityQueue<PatrolEntry, DateTimeOffset>();
        var now = T0;
        while (now < T0 + duration)
        {
            while (inFlight.Count < slots && plan.TryTake(now, out var e)) inFlight.Enqueue(e, now + visit);
            var nextDone = inFlight.TryPeek(out _, out var doneAt) ? doneAt : DateTimeOffset.MaxValue;
            var nextDue = inFlight.Count < slots ? plan.NextDue ?? DateTimeOffset.MaxValue : DateTimeOffset.MaxValue;
            now = nextDone < nextDue ? nextDone : nextDue;
            if (now == DateTimeOffset.MaxValue) break;
            while (inFlight.TryPeek(out var done, out var at) && at <= now)
            {
                inFlight.Dequeue();
                if (fails?.Invoke(done) == true) plan.Failed(done, at, "connection refused");
                else plan.Visited(done, at);
            }
        }
        return plan;
    }

    [Fact]
    public void With_enough_budget_each_camera_is_revisited_at_its_interval()
    {
        var plan = Simulate(Cameras(100, TimeSpan.FromMinutes(1)), slots: 8, visit: TimeSpan.FromSeconds(1), duration: TimeSpan.FromMinutes(10));
        // 100 visits of 1 s on 8 slots take 12.5 s per round, well inside a minute: every camera comes back early
        // (at 80 % of its interval plus one visit), so no gap reaches the interval.
        Assert.InRange(plan.WorstGap, TimeSpan.FromSeconds(48), TimeSpan.FromSeconds(50));
        Assert.All(plan.Entries, e => Assert.True(e.LastVisit > T0 + TimeSpan.FromMinutes(8)));
    }

    [Fact]
    public void When_the_budget_is_short_nobody_starves_and_the_worst_gap_is_the_round_time()
    {
        // 1000 cameras wanting a visit every 30 s, 8 slots of 1 s: a round takes 125 s, longer than the interval.
        var plan = Simulate(Cameras(1000, TimeSpan.FromSeconds(30)), slots: 8, visit: TimeSpan.FromSeconds(1), duration: TimeSpan.FromMinutes(15));
        Assert.All(plan.Entries, e => Assert.NotNull(e.LastVisit));
        // Most-overdue-first gives everyone the same lateness: the worst gap is about one round, not many.
        Assert.InRange(plan.WorstGap, TimeSpan.FromSeconds(124), TimeSpan.FromSeconds(160));
        var visits = plan.Entries.Select(e => e.LastVisit!.Value).ToList();
        Assert.True(visits.Max() - visits.Min() <= TimeSpan.FromSeconds(160));
    }

    [Fact]
    public void A_failing_camera_backs_off_and_does_not_eat_the_budget_of_the_others()
    {
        var cams = Cameras(20, TimeSpan.FromSeconds(10));
        var plan = Simulate(cams, slots: 1, visit: TimeSpan.FromSeconds(0.2), duration: TimeSpan.FromMinutes(10), fails: e => e.Camera.Id == "c0");
        var broken = plan.Entries.Single(e => e.Camera.Id == "c0");
        Assert.Null(broken.LastVisit);
        Assert.Equal("connection refused", broken.Reason);
        // 2 s (a fifth of the interval), 4, 8, ... 256 s, then the 10-minute cap: a handful of attempts in ten minutes.
        Assert.InRange(plan.Failures, 7, 10);
        Assert.True(plan.Entries.Where(e => e != broken).Max(e => e.WorstGap) <= TimeSpan.FromSeconds(10.5));
    }

    [Fact]
    public void A_single_failure_is_retried_soon_not_a_whole_interval_later()
    {
        var plan = new PatrolPlan(Cameras(1, TimeSpan.FromMinutes(2)), T0);
        Assert.True(plan.TryTake(T0, out var e));
        plan.Visited(e, T0);
        Assert.True(plan.TryTake(T0 + TimeSpan.FromSeconds(96), out e));
        plan.Failed(e, T0 + TimeSpan.FromSeconds(100), "timeout");
        // Retried 24 s later (the fifth of the interval kept as margin), not a whole interval later.
        Assert.Equal(T0 + TimeSpan.FromSeconds(124), plan.NextDue);
    }

    [Fact]
    public void A_camera_being_visited_is_not_handed_out_twice()
    {
        var plan = new PatrolPlan(Cameras(2, TimeSpan.FromSeconds(1)), T0);
        Assert.True(plan.TryTake(T0, out var a));
        Assert.True(plan.TryTake(T0, out var b));
        Assert.NotSame(a, b);
        Assert.False(plan.TryTake(T0 + TimeSpan.FromHours(1), out _));
        Assert.Null(plan.NextDue);
    }
}
