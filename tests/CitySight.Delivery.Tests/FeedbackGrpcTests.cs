using CitySight.Cases;
using CitySight.Cases.Sqlite;
using CitySight.Delivery.V1;
using CitySight.Tests;
using Grpc.Core;
using Grpc.Net.Client;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Delivery.Tests;

/// <summary>Acks, resuming from a stored cursor, and dispatch's outcomes: real SQLite store, real Kestrel, real gRPC client.</summary>
public sealed class FeedbackGrpcTests : IAsyncLifetime
{
    private readonly string _data = TestAssets.TempDir("feedback");
    private readonly SqliteCaseStore _store;
    private readonly CancellationTokenSource _cts = new(TestTimeout);
    private LoopbackGrpcServer _server = null!;
    private GrpcChannel _channel = null!;
    private CaseFeed.CaseFeedClient _client = null!;

    public FeedbackGrpcTests() => _store = new SqliteCaseStore(_data);

    public async Task InitializeAsync()
    {
        _server = await FeedServer.StartAsync(_store);
        _channel = GrpcChannel.ForAddress(_server.Address);
        _client = new CaseFeed.CaseFeedClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _cts.Cancel();
        _channel.Dispose();
        await _server.DisposeAsync();
        _store.Dispose();
        _cts.Dispose();
    }

    [Fact]
    public async Task A_consumer_that_acked_resumes_after_its_cursor()
    {
        var cases = new List<Domain.Case>();
        for (var i = 0; i < 4; i++) cases.Add(await _store.OpenAsync(Case(i)));
        Assert.Equal(2UL, (await _client.AckAsync(new AckRequest { Consumer = "xuhui", Sequence = 2 })).AckedSequence);
        Assert.Equal(2UL, (await _client.AckAsync(new AckRequest { Consumer = "xuhui", Sequence = 1 })).AckedSequence);   // never back

        using var call = _client.Subscribe(new SubscribeRequest { Consumer = "xuhui", Resume = true }, cancellationToken: _cts.Token);
        Assert.True(await call.ResponseStream.MoveNext(_cts.Token));
        Assert.Equal(cases[2].Id, call.ResponseStream.Current.Case.Id);
        Assert.Equal(3UL, call.ResponseStream.Current.Sequence);
    }

    [Fact]
    public async Task Dispatch_closing_a_case_is_committed_and_streamed_as_a_state_change()
    {
        var opened = await _store.OpenAsync(Case(1));
        using var call = _client.Subscribe(new SubscribeRequest { Consumer = "watcher" }, cancellationToken: _cts.Token);
        Assert.True(await call.ResponseStream.MoveNext(_cts.Token));
        Assert.Equal(CaseEventKind.Opened, call.ResponseStream.Current.Kind);
        Assert.Equal(V1.CaseState.Reported, call.ResponseStream.Current.Case.State);

        var seen = new List<CaseFeedEvent>();
        _store.StateChanged += seen.Add;
        var ack = await _client.ReportOutcomeAsync(new OutcomeRequest { CaseId = opened.Id, Outcome = V1.CaseState.Acknowledged, Consumer = "xuhui" });
        Assert.Equal(V1.CaseState.Acknowledged, ack.State);
        var closed = await _client.ReportOutcomeAsync(new OutcomeRequest { CaseId = opened.Id, Outcome = V1.CaseState.Closed, Note = "towed" });
        Assert.Equal(V1.CaseState.Closed, closed.State);
        Assert.Equal("towed", closed.StateNote);
        Assert.NotNull(closed.ClosedAt);

        Assert.True(await call.ResponseStream.MoveNext(_cts.Token));
        var e1 = call.ResponseStream.Current;
        Assert.True(await call.ResponseStream.MoveNext(_cts.Token));
        var e2 = call.ResponseStream.Current;
        Assert.Equal((CaseEventKind.StateChanged, opened.Id), (e1.Kind, e1.Case.Id));
        Assert.Equal((CaseEventKind.StateChanged, opened.Id, V1.CaseState.Closed), (e2.Kind, e2.Case.Id, e2.Case.State));
        Assert.True(e2.Sequence > e1.Sequence && e1.Sequence > (ulong)opened.Sequence);
        // The rules stage hears it too (that is how the place cools down).
        Assert.Equal([Domain.CaseState.Acknowledged, Domain.CaseState.Closed], seen.Select(e => e.Case.State));

        // Saying it again changes nothing and adds no event.
        var head = _store.LastSequence;
        await _client.ReportOutcomeAsync(new OutcomeRequest { CaseId = opened.Id, Outcome = V1.CaseState.Closed });
        Assert.Equal(head, _store.LastSequence);
    }

    [Fact]
    public async Task A_case_seen_later_or_with_a_better_picture_is_streamed_as_an_update_at_most_once_a_minute()
    {
        var opened = await _store.OpenAsync(Case(1));
        using var call = _client.Subscribe(new SubscribeRequest { Consumer = "watcher", AfterSequence = (ulong)opened.Sequence }, cancellationToken: _cts.Token);
        var t = opened.LastSeen;

        await _store.UpdateSightingAsync(opened.Id, t, 0.1f, null);                        // nothing new: no event
        var head = _store.LastSequence;
        await _store.UpdateSightingAsync(opened.Id, t.AddSeconds(30), 0.1f, null);         // seen later: announced
        await _store.UpdateSightingAsync(opened.Id, t.AddSeconds(50), 0.99f, Jpeg(7));     // 20 s on: kept, not announced yet
        Assert.Equal(head + 1, _store.LastSequence);
        Assert.Equal(0.99f, (await _store.GetAsync(opened.Id))!.Confidence);                // the row has it already
        await _store.UpdateSightingAsync(opened.Id, t.AddSeconds(95), 0.5f, null);         // a minute after the last: announced
        Assert.Equal(head + 2, _store.LastSequence);

        Assert.True(await call.ResponseStream.MoveNext(_cts.Token));
        var later = call.ResponseStream.Current;
        Assert.Equal((CaseEventKind.Updated, opened.Id, (ulong)head + 1), (later.Kind, later.Case.Id, later.Sequence));
        Assert.True(await call.ResponseStream.MoveNext(_cts.Token));
        var next = call.ResponseStream.Current;
        Assert.Equal((CaseEventKind.Updated, (ulong)head + 2), (next.Kind, next.Sequence));
        Assert.Equal(0.99f, next.Case.Confidence);                                           // the better picture's, kept
        Assert.Equal(t.AddSeconds(95), next.Case.LastSeen.ToDateTimeOffset());
    }

    [Fact]
    public async Task A_consumer_that_stops_reading_holds_up_nobody_else()
    {
        // The stuck consumer asks for pictures (200 KB each) and reads one event, then nothing: its stream backs up
        // to the transport's flow-control window and its follower waits there, a batch in hand at most.
        using var stuck = _client.Subscribe(new SubscribeRequest { Consumer = "stuck", IncludeEvidence = true }, cancellationToken: _cts.Token);
        await _store.OpenAsync(Case(0) with { Evidence = Jpeg(0, 200_000) });
        Assert.True(await stuck.ResponseStream.MoveNext(_cts.Token));

        using var fast = _client.Subscribe(new SubscribeRequest { Consumer = "fast", IncludeEvidence = true }, cancellationToken: _cts.Token);
        var ids = new List<string>();
        for (var i = 1; i <= 200; i++) ids.Add((await _store.OpenAsync(Case(i) with { Evidence = Jpeg(i, 200_000) })).Id);

        var got = new List<string>();
        while (got.Count < 201)
        {
            Assert.True(await fast.ResponseStream.MoveNext(_cts.Token));
            got.Add(fast.ResponseStream.Current.Case.Id);
            Assert.Equal(200_006, fast.ResponseStream.Current.Case.EvidenceJpeg.Length);
        }
        Assert.Equal(ids, got.Skip(1));
    }

    [Fact]
    public async Task Bad_requests_get_their_own_status_codes()
    {
        var opened = await _store.OpenAsync(Case(1));
        await _client.ReportOutcomeAsync(new OutcomeRequest { CaseId = opened.Id, Outcome = V1.CaseState.Rejected, Note = "legal bay" });

        async Task<StatusCode> Code(Func<Task> call) => (await Assert.ThrowsAsync<RpcException>(call)).StatusCode;
        Assert.Equal(StatusCode.NotFound, await Code(() => _client.ReportOutcomeAsync(new OutcomeRequest { CaseId = "cs-nope", Outcome = V1.CaseState.Closed }).ResponseAsync));
        Assert.Equal(StatusCode.FailedPrecondition, await Code(() => _client.ReportOutcomeAsync(new OutcomeRequest { CaseId = opened.Id, Outcome = V1.CaseState.Acknowledged }).ResponseAsync));
        Assert.Equal(StatusCode.InvalidArgument, await Code(() => _client.ReportOutcomeAsync(new OutcomeRequest { CaseId = opened.Id }).ResponseAsync));
        Assert.Equal(StatusCode.InvalidArgument, await Code(() => _client.ReportOutcomeAsync(new OutcomeRequest { Outcome = V1.CaseState.Closed }).ResponseAsync));
        Assert.Equal(StatusCode.InvalidArgument, await Code(() => _client.AckAsync(new AckRequest { Consumer = "", Sequence = 1 }).ResponseAsync));
        Assert.Equal(StatusCode.InvalidArgument, await Code(() => _client.AckAsync(new AckRequest { Consumer = "x", Sequence = 99 }).ResponseAsync));

        using var resumeWithoutName = _client.Subscribe(new SubscribeRequest { Resume = true }, cancellationToken: _cts.Token);
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<RpcException>(() => resumeWithoutName.ResponseStream.MoveNext(_cts.Token))).StatusCode);
    }
}
