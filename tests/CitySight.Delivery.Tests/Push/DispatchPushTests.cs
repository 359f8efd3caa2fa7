using CitySight.Cases.Sqlite;
using CitySight.Delivery.Push;
using CitySight.Delivery.V1;
using CitySight.Tests;
using Xunit.Abstractions;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Delivery.Tests.Push;

/// <summary>
/// Push mode end to end: the real <see cref="DispatchPushClient"/>, a real SQLite <see cref="SqliteCaseStore"/> as the outbox,
/// and a real Kestrel (h2c) hosting a DispatchIntake implementation that plays the district's dispatch system.
/// </summary>
public sealed class DispatchPushTests(ITestOutputHelper output)
{
    private const string Consumer = "dispatch-push";

    private static DispatchPushOptions Options(Uri endpoint, string? apiKey = null, TimeSpan? receiptTimeout = null) => new()
    {
        Endpoint = endpoint,
        Consumer = Consumer,
        ApiKey = apiKey,
        MinBackoff = TimeSpan.FromMilliseconds(50),
        MaxBackoff = TimeSpan.FromMilliseconds(400),
        ReceiptTimeout = receiptTimeout ?? TimeSpan.FromSeconds(60),
        ConnectTimeout = TimeSpan.FromSeconds(2),
    };

    [Fact]
    public async Task Push_cases_before_and_after_start_arrive_in_order_and_receipts_advance_the_cursor()
    {
        using var store = new SqliteCaseStore(TestAssets.TempDir("push-order"));
        var log = new DispatchLog();
        await using var server = await DispatchServer.StartAsync(log);
        var stored = new List<CitySight.Domain.Case>();
        for (var i = 1; i <= 3; i++) stored.Add(await store.OpenAsync(Case(i)));   // in the outbox before start: replayed
        var logger = new CapturingLogger<DispatchPushClient>();
        var client = new DispatchPushClient(Options(server.Address), store, logger);
        await client.StartAsync(CancellationToken.None);
        for (var i = 4; i <= 6; i++) stored.Add(await store.OpenAsync(Case(i, "street_stall")));  // live
        await Wait.UntilAsync(() => log.Taken.Count >= 6, "6 opened events");
        await store.TransitionAsync(stored[0].Id, CitySight.Domain.CaseState.Closed, DateTimeOffset.UtcNow, "towed");  // sequence 7

        await Wait.UntilAsync(() => client.AckedSequence == 7, "cursor 7");
        Assert.Equal(7, await store.CursorAsync(Consumer));
        Assert.True(client.IsConnected);
        await PushClients.StopAsync(client);

        var taken = log.Taken;
        Assert.Equal(Enumerable.Range(1, 7).Select(n => (long)n), taken.Select(t => t.Sequence));
        Assert.All(taken, t => Assert.Equal(1, t.Call));
        Assert.Equal(stored.Select(c => c.Id).Append(stored[0].Id), taken.Select(t => t.CaseId));
        Assert.Equal(Enumerable.Repeat(CaseEventKind.Opened, 6).Append(CaseEventKind.StateChanged), taken.Select(t => t.Kind));
        Assert.Equal(V1.CaseState.Closed, taken[6].Case.State);
        Assert.Equal("0302", taken[3].Case.CaseType.Code);
        Assert.Equal("street_stall", taken[3].Case.CaseType.Id);
        Assert.Equal(stored[1].Evidence, taken[1].Case.EvidenceJpeg.ToByteArray());   // include_evidence defaults to true
        Assert.Equal(7, client.Delivered);
        Assert.Contains(logger.Lines, l => l.Contains("Push: delivering to http://127.0.0.1:" + server.Port, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Push_a_dispatch_outage_mid_stream_loses_no_case()
    {
        using var store = new SqliteCaseStore(TestAssets.TempDir("push-outage"));
        var log = new DispatchLog();
        var server = await DispatchServer.StartAsync(log);
        var port = server.Port;
        var client = new DispatchPushClient(Options(server.Address), store, new CapturingLogger<DispatchPushClient>());
        await client.StartAsync(CancellationToken.None);
        var ids = new List<string>();
        try
        {
            for (var i = 1; i <= 20; i++) ids.Add((await store.OpenAsync(Case(i))).Id);
            await Wait.UntilAsync(() => log.Taken.Count >= 5, "the first events to arrive");
            // Dispatch goes away mid-stream while cases keep being committed.
            var stopping = server.StopAsync();
            for (var i = 21; i <= 30; i++) ids.Add((await store.OpenAsync(Case(i))).Id);
            await stopping;
            await Wait.UntilAsync(() => !client.IsConnected, "the client to see the outage");
            var failuresBefore = client.FailedAttempts;
            for (var i = 31; i <= 40; i++) ids.Add((await store.OpenAsync(Case(i))).Id);
            await Wait.UntilAsync(() => client.FailedAttempts > failuresBefore, "a failed call while dispatch is down");
            var cursorDuringOutage = await store.CursorAsync(Consumer);
            Assert.True(cursorDuringOutage < 40, $"cursor {cursorDuringOutage} must not reach the head while dispatch is down");

            // Back on the same port.
            server = await DispatchServer.StartAsync(log, port);
            await Wait.UntilAsync(() => client.AckedSequence == 40, "cursor at the head (40) after dispatch came back");
            Assert.Equal(40, await store.CursorAsync(Consumer));
        }
        finally
        {
            await PushClients.StopAsync(client);
            await server.DisposeAsync();
        }

        var seen = log.Taken.Select(t => t.CaseId).ToList();
        Assert.Empty(ids.Except(seen));
        // Every call sends in sequence order, and each call starts right after the cursor (no gaps).
        foreach (var call in log.Taken.GroupBy(t => t.Call))
        {
            var seqs = call.Select(t => t.Sequence).ToList();
            Assert.Equal(Enumerable.Range((int)seqs[0], seqs.Count).Select(n => (long)n), seqs);
        }
        var duplicates = seen.Count - seen.Distinct().Count();
        output.WriteLine($"outage: {seen.Count} events taken for {ids.Count} cases over {log.Calls.Count} call(s) ({client.FailedAttempts} failed); {duplicates} duplicate(s)");
        Assert.InRange(duplicates, 0, 40);
        Assert.True(log.Calls.Count >= 2);
    }

    [Fact]
    public async Task Push_events_without_a_receipt_stay_in_the_outbox_and_are_sent_again_on_the_next_call()
    {
        using var store = new SqliteCaseStore(TestAssets.TempDir("push-noreceipt"));
        var log = new DispatchLog { ShouldReceipt = (call, e) => call > 1 || e.Sequence != 3 };
        await using var server = await DispatchServer.StartAsync(log);
        var client = new DispatchPushClient(Options(server.Address), store, new CapturingLogger<DispatchPushClient>());
        var ids = new List<string>();
        for (var i = 1; i <= 5; i++) ids.Add((await store.OpenAsync(Case(i))).Id);
        await client.StartAsync(CancellationToken.None);
        try
        {
            // Dispatch took 1..5 on call 1 and receipted all but 3: the cursor stops at 2.
            await Wait.UntilAsync(() => client.ReceiptsReceived >= 4, "4 receipts on call 1");
            Assert.Equal(2, client.AckedSequence);
            Assert.Equal(2, await store.CursorAsync(Consumer));
            Assert.Equal([1L, 2, 3, 4, 5], log.Taken.Select(t => t.Sequence));

            log.EndCalls();   // dispatch drops the stream: the client calls again from its cursor
            await Wait.UntilAsync(() => client.AckedSequence == 5, "cursor 5 after the second call");
        }
        finally
        {
            await PushClients.StopAsync(client);
        }
        var second = log.Taken.Where(t => t.Call == 2).ToList();
        Assert.Equal([3L, 4, 5], second.Select(t => t.Sequence));
        Assert.Equal(ids[2..], second.Select(t => t.CaseId));
        Assert.Equal(5, await store.CursorAsync(Consumer));
    }

    [Fact]
    public async Task Push_an_event_dispatch_never_receipts_times_out_and_is_sent_again()
    {
        using var store = new SqliteCaseStore(TestAssets.TempDir("push-receipt-timeout"));
        // Dispatch keeps the call open but silently drops sequence 2 the first time it gets it. (Keyed on the first
        // take, not on call 1: on a loaded machine a cold first call can end before dispatch has read anything.)
        var dropped = 0;
        var log = new DispatchLog { ShouldReceipt = (_, e) => e.Sequence != 2 || Interlocked.Exchange(ref dropped, 1) == 1 };
        await using var server = await DispatchServer.StartAsync(log);
        var logger = new CapturingLogger<DispatchPushClient>();
        var client = new DispatchPushClient(Options(server.Address, receiptTimeout: TimeSpan.FromMilliseconds(300)), store, logger);
        for (var i = 1; i <= 3; i++) await store.OpenAsync(Case(i));
        await client.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => client.AckedSequence == 3, "cursor 3 after the receipt timeout");
        }
        finally
        {
            await PushClients.StopAsync(client);
        }
        var taken = log.Taken;
        var takesOf2 = taken.Where(t => t.Sequence == 2).ToList();
        Assert.True(takesOf2.Count >= 2, $"sequence 2 sent {takesOf2.Count} time(s)");
        // The call that dropped it ended on the timeout; the next call sent it again, and what came after it too.
        Assert.Equal(takesOf2[0].Call, taken.First(t => t.Sequence == 3).Call);
        Assert.True(takesOf2[1].Call > takesOf2[0].Call, "sent again on a later call");
        Assert.Equal([2L, 3], taken.Where(t => t.Call == takesOf2[1].Call).Select(t => t.Sequence));
        Assert.Contains(logger.Lines, l => l.Contains("no receipt for sequence 2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Push_sends_the_api_key_as_x_api_key()
    {
        const string key = "push-key-7f3a9c2e51d04b8a";
        using var store = new SqliteCaseStore(TestAssets.TempDir("push-key"));
        var log = new DispatchLog { ExpectedKey = key };
        await using var server = await DispatchServer.StartAsync(log);
        var logger = new CapturingLogger<DispatchPushClient>();
        var client = new DispatchPushClient(Options(server.Address, apiKey: key), store, logger);
        await client.StartAsync(CancellationToken.None);
        await store.OpenAsync(Case(1));
        try
        {
            await Wait.UntilAsync(() => client.AckedSequence == 1, "cursor 1");
        }
        finally
        {
            await PushClients.StopAsync(client);
        }
        Assert.NotEmpty(log.Calls);
        Assert.All(log.Calls, c => Assert.Equal(key, c.ApiKey));
        Assert.DoesNotContain(logger.Lines, l => l.Contains(key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Push_a_refused_api_key_backs_off_and_is_reported_without_the_key()
    {
        const string wrongKey = "wrong-key-0b9e44d1c6a2";
        using var store = new SqliteCaseStore(TestAssets.TempDir("push-refused"));
        var log = new DispatchLog { ExpectedKey = "the-right-key" };
        await using var server = await DispatchServer.StartAsync(log);
        var logger = new CapturingLogger<DispatchPushClient>();
        var client = new DispatchPushClient(Options(server.Address, apiKey: wrongKey), store, logger);
        await store.OpenAsync(Case(1));
        await client.StartAsync(CancellationToken.None);
        try
        {
            try { await Wait.UntilAsync(() => log.Calls.Count >= 4 && client.FailedAttempts >= 4, "4 refused calls"); }
            catch { foreach (var l in logger.Lines) output.WriteLine(l); throw; }
            Assert.False(client.IsConnected);
            Assert.Contains("Unauthenticated", client.LastError);
            Assert.Equal(0, await store.CursorAsync(Consumer));   // nothing receipted: the case stays in the outbox
        }
        finally
        {
            await PushClients.StopAsync(client);
        }
        var calls = log.Calls;
        Assert.All(calls, c => Assert.Equal(wrongKey, c.ApiKey));
        // Backoff 50 ms → 100 → 200 (±20%): the wait before the 4th call is at least 160 ms, beyond any first wait
        // (60 ms at most). Only lower bounds: a loaded machine makes waits longer, never shorter.
        var gaps = calls.Zip(calls.Skip(1), (a, b) => b.At - a.At).ToList();
        output.WriteLine("gaps between refused calls: " + string.Join(", ", gaps.Select(g => $"{g.TotalMilliseconds:0} ms")));
        Assert.True(gaps[2] >= TimeSpan.FromMilliseconds(150), $"gap before the 4th call was {gaps[2].TotalMilliseconds:0} ms");
        Assert.Contains(logger.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("refused CitySight", StringComparison.Ordinal)
                                            && l.Contains("Unauthenticated", StringComparison.Ordinal));
        Assert.Contains("***", client.LastError);                 // the server echoed the key: scrubbed
        Assert.DoesNotContain(logger.Lines, l => l.Contains(wrongKey, StringComparison.Ordinal));
        Assert.DoesNotContain(wrongKey, client.LastError ?? "");
    }
}
