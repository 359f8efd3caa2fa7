using CitySight.Cases.Sqlite;
using CitySight.Delivery.V1;
using CitySight.Tests;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Delivery.Tests;

/// <summary>Issue 14: Subscribe streams over the per-consumer or the total cap are refused with RESOURCE_EXHAUSTED.</summary>
public sealed class SubscriberLimitsGrpcTests : IAsyncLifetime
{
    private readonly string _data = TestAssets.TempDir("sublimits");
    private readonly SqliteCaseStore _store;
    private readonly CancellationTokenSource _cts = new(TestTimeout);
    private readonly List<IAsyncEnumerator<CaseEvent>> _open = [];
    private LoopbackGrpcServer _server = null!;

    public SubscriberLimitsGrpcTests() => _store = new SqliteCaseStore(_data);

    public async Task InitializeAsync()
    {
        _server = await LoopbackGrpcServer.CaseFeedAsync(_store, subscribers: new SubscriberLimits { PerConsumer = 2, Total = 4 });
        await _store.OpenAsync(Case(1)); // every subscriber from 0 gets it: proof that its stream is open on the server
    }

    public async Task DisposeAsync()
    {
        _cts.Cancel();
        foreach (var s in _open) await Quietly(s);
        await _server.DisposeAsync();
        _store.Dispose();
        _cts.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    private SubscriberCounts Counts => _server.Services.GetRequiredService<SubscriberCounts>();

    [Fact]
    public async Task A_consumer_over_its_cap_is_refused_naming_it_and_the_limit_while_others_still_subscribe()
    {
        var first = await SubscribedAsync("dispatch-a");
        await SubscribedAsync("dispatch-a");
        Assert.Equal(2, Counts.Of("dispatch-a"));

        var refused = await RefusedAsync("dispatch-a");
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("'dispatch-a'", refused.Status.Detail);
        Assert.Contains("max_subscribers_per_consumer = 2", refused.Status.Detail);

        await SubscribedAsync("dispatch-b"); // another consumer is not held to dispatch-a's count
        Assert.Equal(3, Counts.Total);

        // Once one of its streams has ended, the consumer may open another.
        await Quietly(first);
        _open.Remove(first);
        await Wait.UntilAsync(() => Counts.Of("dispatch-a") == 1, "the closed stream to be counted out");
        await SubscribedAsync("dispatch-a");
    }

    [Fact]
    public async Task Past_the_total_cap_any_consumer_is_refused()
    {
        foreach (var name in new[] { "a", "b", "c", "d" }) await SubscribedAsync(name);
        Assert.Equal(4, Counts.Total);

        var refused = await RefusedAsync("e");
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("'e'", refused.Status.Detail);
        Assert.Contains("max_subscribers = 4", refused.Status.Detail);
        Assert.Equal(4, Counts.Total); // the refused one was never counted
    }

    /// <summary>Opens a stream and reads the stored case: the server has counted it.</summary>
    private async Task<IAsyncEnumerator<CaseEvent>> SubscribedAsync(string consumer)
    {
        var s = CaseFeedClient.SubscribeAsync(_server.Address, consumer, 0, includeEvidence: false, _cts.Token).GetAsyncEnumerator(_cts.Token);
        _open.Add(s);
        Assert.True(await s.MoveNextAsync().AsTask().WaitAsync(TestTimeout), "the stream ended");
        Assert.Equal(1UL, s.Current.Sequence);
        return s;
    }

    private async Task<RpcException> RefusedAsync(string consumer)
    {
        await using var s = CaseFeedClient.SubscribeAsync(_server.Address, consumer, 0, includeEvidence: false, _cts.Token).GetAsyncEnumerator(_cts.Token);
        return await Assert.ThrowsAsync<RpcException>(async () => await s.MoveNextAsync().AsTask().WaitAsync(TestTimeout));
    }

    private static async Task Quietly(IAsyncEnumerator<CaseEvent> stream)
    {
        try
        {
            await stream.DisposeAsync();
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException)
        {
            // the stream was cancelled or refused: ending it is all we wanted
        }
    }
}
