using System.Net.Http.Json;
using System.Text.Json;
using CitySight.Domain;
using CitySight.Tests;

namespace CitySight.CommandCentre.Tests;

/// <summary>
/// The overview's figures over a real store filled through the store's own paths (OpenAsync, TransitionAsync,
/// CloseGoneAsync, AckAsync): dispatch's outcomes, delivery lag per consumer, the detector's pace.
/// </summary>
public sealed class OverviewFiguresTests
{
    private static readonly ConsoleCamera[] Cameras =
    [
        new("cam-0", "田林路东", "xuhui-tianlin", "田林街道", "streaming", null, 31.17, 121.43, 0.4),
        new("cam-1", "漕河泾", "xuhui-caohejing", "漕河泾街道", "offline", "connection refused", 31.16, 121.40, null),
    ];

    [Fact]
    public async Task Outcomes_are_accepted_vs_rejected_and_time_to_close_today_and_over_7_days_by_type_and_group()
    {
        await using var server = await ConsoleServer.StartAsync(cameras: Cameras);
        var store = server.Store;
        async Task<Case> Open(int n, string type = "illegal_parking", string group = "xuhui-tianlin") =>
            await store.OpenAsync(CaseSamples.Case(n, type) with { GroupId = group });
        async Task End(int n, CaseState to, double minutes, string type = "illegal_parking", string group = "xuhui-tianlin")
        {
            var c = await Open(n, type, group);
            await store.TransitionAsync(c.Id, to, c.ReportedAt!.Value.AddMinutes(minutes), "by dispatch");
        }
        // Illegal parking in Tianlin: closed after 10, 20 and 30 minutes, one rejected, one closed by CitySight as gone.
        await End(1, CaseState.Closed, 10);
        await End(2, CaseState.Closed, 30);
        await End(3, CaseState.Closed, 20);
        await End(4, CaseState.Rejected, 5);
        var gone = await Open(5);
        Assert.True(await store.CloseGoneAsync(gone.Id, gone.ReportedAt!.Value.AddMinutes(40), "gone: no camera has seen it"));
        // Garbage in Caohejing: closed after an hour today; one rejected three days ago (in the week, not today).
        await End(6, CaseState.Closed, 60, "garbage", "xuhui-caohejing");
        var old = await Open(7, "garbage", "xuhui-caohejing");
        await store.TransitionAsync(old.Id, CaseState.Rejected, DateTimeOffset.UtcNow.AddDays(-3), "a shadow");
        await Open(8);   // still open: in no outcome

        var o = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/overview");
        var outcomes = o.GetProperty("outcomes");
        var today = outcomes.GetProperty("today").GetProperty("all");
        Assert.Equal((4, 1, 1), (today.GetProperty("accepted").GetInt32(), today.GetProperty("rejected").GetInt32(),
            today.GetProperty("closedByCitySight").GetInt32()));
        Assert.Equal(0.8, today.GetProperty("acceptedRate").GetDouble(), 6);
        Assert.Equal(0.2, today.GetProperty("rejectedRate").GetDouble(), 6);
        Assert.Equal(20, today.GetProperty("medianMinutesToClose").GetDouble());   // nearest rank of 10, 20, 30, 60
        Assert.Equal(60, today.GetProperty("p90MinutesToClose").GetDouble());
        var week = outcomes.GetProperty("week").GetProperty("all");
        Assert.Equal((4, 2), (week.GetProperty("accepted").GetInt32(), week.GetProperty("rejected").GetInt32()));
        Assert.Equal(4.0 / 6, week.GetProperty("acceptedRate").GetDouble(), 6);

        var parking = outcomes.GetProperty("today").GetProperty("byType").GetProperty("illegal_parking");
        Assert.Equal((3, 1, 0.75), (parking.GetProperty("accepted").GetInt32(), parking.GetProperty("rejected").GetInt32(),
            parking.GetProperty("acceptedRate").GetDouble()));
        Assert.Equal((20.0, 30.0), (parking.GetProperty("medianMinutesToClose").GetDouble(), parking.GetProperty("p90MinutesToClose").GetDouble()));
        var caohejing = outcomes.GetProperty("week").GetProperty("byGroup").GetProperty("xuhui-caohejing");
        Assert.Equal((1, 1, 0.5, 60.0), (caohejing.GetProperty("accepted").GetInt32(), caohejing.GetProperty("rejected").GetInt32(),
            caohejing.GetProperty("rejectedRate").GetDouble(), caohejing.GetProperty("medianMinutesToClose").GetDouble()));
        Assert.False(outcomes.GetProperty("today").GetProperty("byGroup").TryGetProperty("xuhui-caohejing", out var g) && g.GetProperty("rejected").GetInt32() > 0,
            "a rejection three days ago is not today's");

        // The counts beside them: open now, and reported in the last 7 days whatever became of them.
        Assert.Equal(1, o.GetProperty("open").GetProperty("total").GetInt32());
        Assert.Equal(8, o.GetProperty("week").GetProperty("total").GetInt32());
        Assert.Equal(2, o.GetProperty("week").GetProperty("byGroup").GetProperty("xuhui-caohejing").GetInt32());
    }

    [Fact]
    public async Task Delivery_lag_is_each_consumers_cursor_against_the_feed_head()
    {
        await using var server = await ConsoleServer.StartAsync(cameras: Cameras);
        for (var n = 0; n < 5; n++) await server.Store.OpenAsync(CaseSamples.Case(n));
        var head = server.Store.LastSequence;
        await server.Store.AckAsync("dispatch-xuhui", head - 3);
        await server.Store.AckAsync("mqtt", head);

        var o = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/overview");
        Assert.Equal(head, o.GetProperty("feedHead").GetInt64());
        var lag = o.GetProperty("delivery").EnumerateArray().ToDictionary(c => c.GetProperty("consumer").GetString()!, c => c);
        Assert.Equal((head - 3, 3L), (lag["dispatch-xuhui"].GetProperty("acked").GetInt64(), lag["dispatch-xuhui"].GetProperty("behind").GetInt64()));
        Assert.Equal(0, lag["mqtt"].GetProperty("behind").GetInt64());
        Assert.InRange(lag["mqtt"].GetProperty("secondsSinceAck").GetDouble(), 0, 60);
    }

    [Fact]
    public async Task The_detector_pace_is_frames_and_drops_per_second_between_reads()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 7, 6, 0, 0, TimeSpan.Zero));
        var counters = new DetectorCounters(new Dictionary<string, long> { ["yolov8n"] = 100 }, 4);
        await using var server = await ConsoleServer.StartAsync(cameras: Cameras, time: clock,
            configure: o => o with { Detector = () => counters });

        var first = (await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/overview")).GetProperty("detector");
        Assert.Equal(JsonValueKind.Null, first.GetProperty("framesPerSecond").ValueKind);   // one read: no rate yet
        Assert.Equal((100L, 4L), (first.GetProperty("frames").GetInt64(), first.GetProperty("dropped").GetInt64()));

        clock.Now += TimeSpan.FromSeconds(10);
        counters = new DetectorCounters(new Dictionary<string, long> { ["yolov8n"] = 350, ["fastestdet"] = 40 }, 24);
        var second = (await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/overview")).GetProperty("detector");
        Assert.Equal(29, second.GetProperty("framesPerSecond").GetDouble(), 6);   // (350 + 40 - 100) / 10 s
        Assert.Equal(2, second.GetProperty("droppedPerSecond").GetDouble(), 6);
        Assert.Equal(25, second.GetProperty("framesPerSecondByModel").GetProperty("yolov8n").GetDouble(), 6);
        Assert.Equal(10, second.GetProperty("windowSeconds").GetDouble());

        // Without a detector from the host (the console alone) there is no figure, not a zero.
        await using var alone = await ConsoleServer.StartAsync(cameras: Cameras);
        Assert.Equal(JsonValueKind.Null, (await alone.Http.GetFromJsonAsync<JsonElement>("/api/v1/overview")).GetProperty("detector").ValueKind);
    }

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }
}
