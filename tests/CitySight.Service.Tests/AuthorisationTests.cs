using CitySight.Cases.Sqlite;
using CitySight.Delivery;
using CitySight.Delivery.Security;
using CitySight.Delivery.V1;
using CitySight.Tests;
using Grpc.Core;
using Grpc.Net.Client;

namespace CitySight.Service.Tests;

/// <summary>
/// Who may do what on a real case feed server (Kestrel on loopback, h2c): only the listed consumers report outcomes,
/// nobody moves the cursors of CitySight's own push and MQTT channels, a consumer keeps to its own cursor.
/// </summary>
public sealed class AuthorisationTests : IAsyncLifetime
{
    private const string XuhuiKey = "xh-7c1f0e5a9b2d4c6e8f01";
    private const string MinhangKey = "mh-0a1b2c3d4e5f60718293";
    private const string PushKey = "dp-5e6f7a8b9c0d1e2f3a4b";
    private readonly string _dir = TestAssets.TempDir("authorisation");
    private readonly List<LoopbackGrpcServer> _servers = [];
    private SqliteCaseStore _store = null!;

    public Task InitializeAsync()
    {
        _store = new SqliteCaseStore(Path.Combine(_dir, "data"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var s in _servers) await s.DisposeAsync();
        _store.Dispose();
    }

    [Fact]
    public async Task With_keys_only_the_outcome_consumers_may_close_or_reject_a_case()
    {
        var feed = await ClientAsync(new GrpcEndpointOptions { ApiKeysEnv = Keys(), OutcomeConsumers = ["xuhui"] });
        var c = await _store.OpenAsync(CaseSamples.Case(1));
        var reject = new OutcomeRequest { CaseId = c.Id, Outcome = CitySight.Delivery.V1.CaseState.Rejected };

        var denied = await Assert.ThrowsAsync<RpcException>(() => feed.ReportOutcomeAsync(reject, Key(MinhangKey)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("outcome_consumers", denied.Status.Detail);
        Assert.Equal(c.State, (await _store.GetAsync(c.Id))!.State);   // untouched

        var done = await feed.ReportOutcomeAsync(reject, Key(XuhuiKey));
        Assert.Equal(CitySight.Delivery.V1.CaseState.Rejected, done.State);
    }

    [Fact]
    public async Task With_keys_and_no_outcome_consumers_listed_nobody_may_report_outcomes()
    {
        var feed = await ClientAsync(new GrpcEndpointOptions { ApiKeysEnv = Keys() });
        var c = await _store.OpenAsync(CaseSamples.Case(1));
        var denied = await Assert.ThrowsAsync<RpcException>(() => feed.ReportOutcomeAsync(
            new OutcomeRequest { CaseId = c.Id, Outcome = CitySight.Delivery.V1.CaseState.Closed }, Key(XuhuiKey)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
    }

    [Theory]
    [InlineData("dispatch-push")]
    [InlineData("mqtt:citysight-edge-1")]
    [InlineData("intake-outbox")]   // a push consumer renamed in delivery.push.consumer
    public async Task Without_authentication_the_own_channels_cursors_cannot_be_acked_or_resumed(string own)
    {
        var feed = await ClientAsync(new GrpcEndpointOptions(), internalAlso: "intake-outbox");
        await _store.OpenAsync(CaseSamples.Case(1));
        await _store.OpenAsync(CaseSamples.Case(2));

        var ack = await Assert.ThrowsAsync<RpcException>(() => feed.AckAsync(new AckRequest { Consumer = own, Sequence = 2 }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, ack.StatusCode);
        Assert.Contains("CitySight's own", ack.Status.Detail);
        Assert.Equal(0, await _store.CursorAsync(own));
        using var stream = feed.Subscribe(new SubscribeRequest { Consumer = own, Resume = true });
        Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() => stream.ResponseStream.MoveNext())).StatusCode);

        // Any other name still acks as before.
        Assert.Equal(2UL, (await feed.AckAsync(new AckRequest { Consumer = "xuhui", Sequence = 2 })).AckedSequence);
    }

    [Fact]
    public async Task A_key_issued_under_an_own_channels_name_cannot_move_that_cursor_nor_another_consumers()
    {
        var feed = await ClientAsync(new GrpcEndpointOptions { ApiKeysEnv = Keys() });
        await _store.OpenAsync(CaseSamples.Case(1));

        var own = await Assert.ThrowsAsync<RpcException>(() => feed.AckAsync(new AckRequest { Sequence = 1 }, Key(PushKey)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, own.StatusCode);
        Assert.Equal(0, await _store.CursorAsync("dispatch-push"));
        var other = await Assert.ThrowsAsync<RpcException>(() => feed.AckAsync(new AckRequest { Consumer = "minhang", Sequence = 1 }, Key(XuhuiKey)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, other.StatusCode);
        Assert.Equal(0, await _store.CursorAsync("minhang"));
    }

    private async Task<CaseFeed.CaseFeedClient> ClientAsync(GrpcEndpointOptions grpc, string? internalAlso = null)
    {
        var auth = grpc.AuthOptions();
        if (internalAlso is not null) auth = auth with { InternalConsumers = [.. auth.InternalConsumers, internalAlso] };
        var server = await LoopbackGrpcServer.CaseFeedAsync(_store, auth);
        _servers.Add(server);
        return new CaseFeed.CaseFeedClient(GrpcChannel.ForAddress(server.Address));
    }

    private static string Keys()
    {
        var env = "CITYSIGHT_TEST_KEYS_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(env, $"xuhui={XuhuiKey},minhang={MinhangKey},dispatch-push={PushKey}");
        return env;
    }

    private static Metadata Key(string key) => new() { { ConsumerAuthInterceptor.ApiKeyHeader, key } };
}
