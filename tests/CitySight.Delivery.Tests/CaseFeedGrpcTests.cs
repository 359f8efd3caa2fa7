using CitySight.Cases.Sqlite;
using CitySight.Delivery.V1;
using CitySight.Tests;
using Grpc.Core;
using Grpc.Net.Client;
using static CitySight.Tests.CaseSamples;
using DomainCase = CitySight.Domain.Case;
using EvidenceView = CitySight.Delivery.V1.EvidenceView;

namespace CitySight.Delivery.Tests;

/// <summary>The feed end to end: real SQLite store, real Kestrel (h2c), real Grpc.Net.Client channel.</summary>
public sealed class CaseFeedGrpcTests : IAsyncLifetime
{
    private readonly string _data = TestAssets.TempDir("casefeed");
    private readonly SqliteCaseStore _store;
    private readonly CancellationTokenSource _cts = new(TestTimeout);
    private LoopbackGrpcServer _server = null!;

    public CaseFeedGrpcTests() => _store = new SqliteCaseStore(_data);

    public async Task InitializeAsync() => _server = await FeedServer.StartAsync(_store);

    public async Task DisposeAsync()
    {
        _cts.Cancel(); // ends any subscription still open before the server stops
        await _server.DisposeAsync();
        _store.Dispose();
        _cts.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task Subscriber_from_zero_gets_stored_cases_in_order_then_one_opened_later()
    {
        var stored = new List<DomainCase>();
        for (var i = 0; i < 3; i++) stored.Add(await _store.OpenAsync(Case(i)));

        await using var feed = Subscribe("dispatch-a", 0, includeEvidence: false);
        foreach (var expected in stored)
            AssertEvent(expected, await Next(feed), withEvidence: false);

        // The client has caught up and is subscribed: this case can only reach it by the server following the store.
        var live = await _store.OpenAsync(Case(3));
        AssertEvent(live, await Next(feed), withEvidence: false);
    }

    [Fact]
    public async Task Subscriber_after_a_sequence_gets_only_later_cases()
    {
        var stored = new List<DomainCase>();
        for (var i = 0; i < 5; i++) stored.Add(await _store.OpenAsync(Case(i)));
        await using var fromZero = Subscribe("dispatch-a", 0, includeEvidence: false);
        await using var afterThree = Subscribe("dispatch-b", 3, includeEvidence: false);

        Assert.Equal(stored[3].Id, (await Next(afterThree)).Case.Id);
        Assert.Equal(stored[4].Id, (await Next(afterThree)).Case.Id);
        var live = await _store.OpenAsync(Case(5));
        var e = await Next(afterThree);
        Assert.Equal((ulong)live.Sequence, e.Sequence);
        Assert.Equal(live.Id, e.Case.Id);
        // Meanwhile the other cursor saw all six, in order.
        var all = new List<ulong>();
        for (var i = 0; i < 6; i++) all.Add((await Next(fromZero)).Sequence);
        Assert.Equal([1UL, 2, 3, 4, 5, 6], all);
    }

    [Fact]
    public async Task Include_evidence_sends_the_stored_bytes_and_without_it_GetEvidence_fetches_them()
    {
        var c = await _store.OpenAsync(Case(1) with { Evidence = Jpeg(77, bodyLength: 600_000) });
        var stored = await _store.GetEvidenceAsync(c.Id);

        await using var withEvidence = Subscribe("with", 0, includeEvidence: true);
        var e = await Next(withEvidence);
        Assert.Equal(stored, e.Case.EvidenceJpeg.ToByteArray());
        Assert.Equal("image/jpeg", e.Case.EvidenceContentType);
        AssertEvent(c, e, withEvidence: true);

        await using var without = Subscribe("without", 0, includeEvidence: false);
        var bare = await Next(without);
        Assert.True(bare.Case.EvidenceJpeg.IsEmpty);
        Assert.Equal("image/jpeg", bare.Case.EvidenceContentType);

        var fetched = await CaseFeedClient.GetEvidenceAsync(_server.Address, bare.Case.Id, _cts.Token);
        Assert.Equal(c.Id, fetched.CaseId);
        Assert.Equal("image/jpeg", fetched.ContentType);
        Assert.Equal(stored, fetched.Data.ToByteArray());
    }

    [Fact]
    public async Task GetEvidence_gives_each_picture_of_a_static_object_by_view_and_NOT_FOUND_for_one_a_case_lacks()
    {
        var garbage = await _store.OpenAsync(Case(1) with { Evidence = Jpeg(1), EvidenceCrop = Jpeg(2), EvidenceBeforeAfter = Jpeg(3) });
        var parking = await _store.OpenAsync(Case(2) with { Evidence = Jpeg(4) });

        async Task<byte[]> Fetch(string id, EvidenceView view) =>
            (await CaseFeedClient.GetEvidenceAsync(_server.Address, id, view, _cts.Token)).Data.ToByteArray();
        Assert.Equal(Jpeg(1), await Fetch(garbage.Id, EvidenceView.Best));
        Assert.Equal(Jpeg(2), await Fetch(garbage.Id, EvidenceView.BestCrop));
        Assert.Equal(Jpeg(3), await Fetch(garbage.Id, EvidenceView.BeforeAfter));
        var none = await Assert.ThrowsAsync<RpcException>(() => Fetch(parking.Id, EvidenceView.BeforeAfter));
        Assert.Equal(StatusCode.NotFound, none.StatusCode);
        Assert.Contains("BeforeAfter", none.Status.Detail);
    }

    [Fact]
    public async Task GetEvidence_of_an_unknown_case_is_NOT_FOUND()
    {
        await _store.OpenAsync(Case(1));
        var ex = await Assert.ThrowsAsync<RpcException>(() => CaseFeedClient.GetEvidenceAsync(_server.Address, "no-such-case", _cts.Token));
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
    }

    [Fact]
    public async Task GetEvidence_without_an_id_is_INVALID_ARGUMENT()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => CaseFeedClient.GetEvidenceAsync(_server.Address, "", _cts.Token));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
    }

    [Fact]
    public async Task Two_concurrent_subscribers_both_receive_every_case()
    {
        await using var a = Subscribe("dispatch-a", 0, includeEvidence: true);
        await using var b = Subscribe("dispatch-b", 0, includeEvidence: false);
        // Start both reads before anything exists, so both streams are open while cases arrive.
        var readA = Task.Run(() => Take(a, 30));
        var readB = Task.Run(() => Take(b, 30));

        var opened = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(() => _store.OpenAsync(Case(i)))));
        var expected = opened.OrderBy(c => c.Sequence).ToList();

        var gotA = await readA.WaitAsync(TestTimeout);
        var gotB = await readB.WaitAsync(TestTimeout);
        Assert.Equal(expected.Select(c => (ulong)c.Sequence), gotA.Select(e => e.Sequence));
        Assert.Equal(expected.Select(c => (ulong)c.Sequence), gotB.Select(e => e.Sequence));
        for (var i = 0; i < expected.Count; i++)
        {
            AssertEvent(expected[i], gotA[i], withEvidence: true);
            AssertEvent(expected[i], gotB[i], withEvidence: false);
        }
    }

    [Fact]
    public async Task Subscribing_beyond_the_end_waits_until_the_client_deadline()
    {
        await _store.OpenAsync(Case(1));
        // A plain channel: CaseFeedClient's turns deadlines into OperationCanceledException; this checks the gRPC status.
        using var channel = GrpcChannel.ForAddress(_server.Address);
        var client = new CaseFeed.CaseFeedClient(channel);
        using var call = client.Subscribe(new SubscribeRequest { Consumer = "late", AfterSequence = 100 },
            deadline: DateTime.UtcNow.AddMilliseconds(500), cancellationToken: _cts.Token);

        // No event may arrive (nothing is past 100); the stream ends only because the deadline passes.
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(_cts.Token).WaitAsync(TestTimeout));
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
    }

    [Fact]
    public async Task After_sequence_too_large_is_INVALID_ARGUMENT()
    {
        await using var feed = Subscribe("huge", ulong.MaxValue, includeEvidence: false);
        var ex = await Assert.ThrowsAsync<RpcException>(() => Next(feed));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
    }

    [Fact]
    public async Task Store_shutdown_ends_streams_with_UNAVAILABLE()
    {
        await _store.OpenAsync(Case(1));
        await using var feed = Subscribe("dispatch-a", 0, includeEvidence: false);
        await Next(feed); // the server-side follower is now running
        var waiting = feed.MoveNextAsync().AsTask();

        _store.Dispose();

        var ex = await Assert.ThrowsAsync<RpcException>(() => waiting.WaitAsync(TestTimeout));
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
    }

    [Fact]
    public void Mapping_round_trips_every_field()
    {
        var c = Case(9) with { Sequence = 42 };
        var back = CaseMapping.ToDomain(CaseMapping.ToProto(c), 42);
        AssertSameCase(c, back);
        Assert.True(CaseMapping.ToProto(c, includeEvidence: false).EvidenceJpeg.IsEmpty);
        var e = CaseMapping.ToOpenedEvent(c, includeEvidence: false);
        Assert.Equal(42UL, e.Sequence);
        Assert.Equal(CaseEventKind.Opened, e.Kind);
    }

    private IAsyncEnumerator<CaseEvent> Subscribe(string consumer, ulong after, bool includeEvidence) =>
        CaseFeedClient.SubscribeAsync(_server.Address, consumer, after, includeEvidence, _cts.Token).GetAsyncEnumerator(_cts.Token);

    private static async Task<CaseEvent> Next(IAsyncEnumerator<CaseEvent> feed)
    {
        Assert.True(await feed.MoveNextAsync().AsTask().WaitAsync(TestTimeout), "the stream ended");
        return feed.Current;
    }

    private static async Task<List<CaseEvent>> Take(IAsyncEnumerator<CaseEvent> feed, int count)
    {
        var list = new List<CaseEvent>();
        while (list.Count < count) list.Add(await Next(feed));
        return list;
    }

    private static void AssertEvent(DomainCase expected, CaseEvent e, bool withEvidence)
    {
        Assert.Equal(CaseEventKind.Opened, e.Kind);
        Assert.Equal((ulong)expected.Sequence, e.Sequence);
        AssertSameCase(expected, CaseMapping.ToDomain(e.Case, (long)e.Sequence), withEvidence);
    }
}
