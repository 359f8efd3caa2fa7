using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using CitySight.Cases.Sqlite;
using CitySight.Delivery.Security;
using CitySight.Delivery;
using CitySight.Delivery.V1;
using CitySight.Tests;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace CitySight.Service.Tests;

/// <summary>
/// The gRPC port as delivery.grpc configures it, on a real Kestrel with real certificates made here: TLS, client
/// certificates signed by the configured CA, API keys from an environment variable; refusals never echo a secret.
/// </summary>
public sealed class GrpcSecurityTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly string _dir = TestAssets.TempDir("grpc-security");
    private readonly List<IAsyncDisposable> _servers = [];
    private readonly List<IDisposable> _disposables = [];

    public void Dispose()
    {
        foreach (var s in _servers) s.DisposeAsync().AsTask().GetAwaiter().GetResult();
        foreach (var d in _disposables) d.Dispose();
    }

    [Fact]
    public async Task Api_keys_let_known_consumers_in_refuse_the_rest_and_hold_each_to_its_own_cursor()
    {
        const string xuhuiKey = "xh-7c1f0e5a9b2d4c6e8f01";
        const string minhangKey = "mh-0a1b2c3d4e5f60718293";
        var env = "CITYSIGHT_TEST_KEYS_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(env, $"xuhui={xuhuiKey}, minhang={minhangKey}");
        var (address, store) = await StartAsync(new GrpcEndpointOptions { ApiKeysEnv = env });
        await store.OpenAsync(Sample(1));
        await store.OpenAsync(Sample(2));
        using var channel = GrpcChannel.ForAddress(address);
        var client = new CaseFeed.CaseFeedClient(channel);
        static Metadata Key(string k) => new() { { "x-api-key", k } };

        var none = await Assert.ThrowsAsync<RpcException>(() => client.AckAsync(new AckRequest { Consumer = "xuhui", Sequence = 1 }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
        const string wrong = "not-a-key-0123456789abcdef";
        var bad = await Assert.ThrowsAsync<RpcException>(() => client.AckAsync(new AckRequest { Consumer = "xuhui", Sequence = 1 }, Key(wrong)).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, bad.StatusCode);
        Assert.DoesNotContain(wrong, bad.Status.Detail);
        using (var stream = client.Subscribe(new SubscribeRequest(), Key(wrong)))
            Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => stream.ResponseStream.MoveNext())).StatusCode);

        // The key says who: an empty name takes it, another consumer's name is refused.
        Assert.Equal(1UL, (await client.AckAsync(new AckRequest { Sequence = 1 }, Key(xuhuiKey))).AckedSequence);
        Assert.Equal(1, await store.CursorAsync("xuhui"));
        var other = await Assert.ThrowsAsync<RpcException>(() => client.AckAsync(new AckRequest { Consumer = "minhang", Sequence = 2 }, Key(xuhuiKey)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, other.StatusCode);
        Assert.Equal(0, await store.CursorAsync("minhang"));

        using var resumed = client.Subscribe(new SubscribeRequest { Resume = true }, Key(xuhuiKey));
        Assert.True(await resumed.ResponseStream.MoveNext().WaitAsync(Timeout));
        Assert.Equal(2UL, resumed.ResponseStream.Current.Sequence);   // after xuhui's own cursor
    }

    [Fact]
    public async Task Only_the_listed_consumers_may_use_the_admin_service()
    {
        const string opsKey = "ops-31c7a9e0d2b4f6a8c0e2";
        const string xuhuiKey = "xh-7c1f0e5a9b2d4c6e8f01";
        var env = "CITYSIGHT_TEST_KEYS_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(env, $"ops={opsKey},xuhui={xuhuiKey}");
        // The admin rule, tried on a CaseFeed method standing in for the CameraAdmin service (same interceptor path).
        var (address, _) = await StartAsync(new GrpcEndpointOptions { ApiKeysEnv = env, AdminConsumers = ["ops"], OutcomeConsumers = ["ops", "xuhui"] },
            auth: o => o with { AdminServicePrefix = "/citysight.v1.CaseFeed/ReportOutcome" });
        using var channel = GrpcChannel.ForAddress(address);
        var client = new CaseFeed.CaseFeedClient(channel);
        var request = new OutcomeRequest { CaseId = "cs-unknown", Outcome = CitySight.Delivery.V1.CaseState.Closed };

        var denied = await Assert.ThrowsAsync<RpcException>(() => client.ReportOutcomeAsync(request, new Metadata { { "x-api-key", xuhuiKey } }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        var allowed = await Assert.ThrowsAsync<RpcException>(() => client.ReportOutcomeAsync(request, new Metadata { { "x-api-key", opsKey } }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, allowed.StatusCode);   // past the gate: the case is what is missing
        // Other methods stay open to every authenticated consumer.
        Assert.Equal(0UL, (await client.AckAsync(new AckRequest { Sequence = 0 }, new Metadata { { "x-api-key", xuhuiKey } })).AckedSequence);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.8.9.10", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("192.0.2.2", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("::ffff:10.1.2.3", false)]
    [InlineData("fd00::2", false)]
    public void Without_authentication_the_admin_api_counts_only_loopback_as_this_machine(string address, bool local)
    {
        Assert.Equal(local, CitySight.Delivery.Security.ConsumerAuthInterceptor.IsThisMachine(IPAddress.Parse(address)));
    }

    [Fact]
    public async Task Without_authentication_the_admin_service_answers_this_machine_only()
    {
        // The admin rule, tried on a CaseFeed method standing in for the CameraAdmin service (same interceptor path).
        var (address, _) = await StartAsync(new GrpcEndpointOptions(), auth: o => o with { AdminServicePrefix = "/citysight.v1.CaseFeed/ReportOutcome" });
        var request = new OutcomeRequest { CaseId = "cs-unknown", Outcome = CitySight.Delivery.V1.CaseState.Closed };
        using (var local = GrpcChannel.ForAddress(address.Replace("localhost", "127.0.0.1")))
        {
            var past = await Assert.ThrowsAsync<RpcException>(() => new CaseFeed.CaseFeedClient(local).ReportOutcomeAsync(request).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, past.StatusCode);   // past the gate: the case is what is missing
        }

        // The same port reached through one of this machine's own network addresses: a peer like any other on the network.
        var lan = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(u => u.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        if (lan is null) return; // a machine with loopback only: the address rule is covered by the theory above
        using var remote = GrpcChannel.ForAddress(address.Replace("localhost", lan.ToString()));
        var client = new CaseFeed.CaseFeedClient(remote);
        var denied = await Assert.ThrowsAsync<RpcException>(() => client.ReportOutcomeAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("only calls from this machine", denied.Status.Detail);
        // The case feed stays open to the network, as configured.
        Assert.Equal(0UL, (await client.AckAsync(new AckRequest { Consumer = "dispatch", Sequence = 0 })).AckedSequence);
    }

    [Fact]
    public async Task Tls_with_client_certificates_admits_a_certificate_signed_by_the_configured_ca_and_no_other()
    {
        using var certs = new TestCertificates(Path.Combine(_dir, "certs"));
        var server = certs.Issue("localhost", server: true);
        var client = certs.Issue("xuhui-dispatch", server: false);
        var stranger = certs.Authority("Some other CA");
        var strangerClient = certs.Issue("xuhui-dispatch", server: false, issuer: stranger);
        var (certFile, keyFile) = certs.WritePem(server, "server");

        var (address, store) = await StartAsync(new GrpcEndpointOptions { TlsCert = certFile, TlsKey = keyFile, ClientCa = certs.CaFile }, https: true);
        await store.OpenAsync(Sample(1));

        // The consumer is the certificate's CN.
        using (var channel = Channel(address, certs, client))
        {
            var feed = new CaseFeed.CaseFeedClient(channel);
            Assert.Equal(1UL, (await feed.AckAsync(new AckRequest { Sequence = 1 })).AckedSequence);
            Assert.Equal(1, await store.CursorAsync("xuhui-dispatch"));
        }
        using (var channel = Channel(address, certs, strangerClient))
            await Assert.ThrowsAsync<RpcException>(() => new CaseFeed.CaseFeedClient(channel).AckAsync(new AckRequest { Sequence = 1 }).ResponseAsync);
        using (var channel = Channel(address, certs, null))
            await Assert.ThrowsAsync<RpcException>(() => new CaseFeed.CaseFeedClient(channel).AckAsync(new AckRequest { Sequence = 1 }).ResponseAsync);
        // Plain h2c on a TLS port gets nowhere either.
        using (var plain = GrpcChannel.ForAddress(address.Replace("https://", "http://")))
            await Assert.ThrowsAsync<RpcException>(() => new CaseFeed.CaseFeedClient(plain).AckAsync(new AckRequest { Sequence = 1 }).ResponseAsync);
    }

    [Fact]
    public void Unreadable_keys_are_named_by_variable_and_consumer_never_by_value()
    {
        var env = "CITYSIGHT_TEST_KEYS_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(env, "xuhui=short-secret");
        var ex = Assert.Throws<InvalidOperationException>(() => (new GrpcEndpointOptions { ApiKeysEnv = env }).AuthOptions());
        Assert.Contains(env, ex.Message);
        Assert.Contains("'xuhui'", ex.Message);
        Assert.DoesNotContain("short-secret", ex.Message);
        Environment.SetEnvironmentVariable(env, "justakeywithoutaname1234");
        Assert.DoesNotContain("justakey", Assert.Throws<InvalidOperationException>(() => (new GrpcEndpointOptions { ApiKeysEnv = env }).AuthOptions()).Message);
    }

    private async Task<(string Address, SqliteCaseStore Store)> StartAsync(GrpcEndpointOptions grpc, bool https = false,
        Func<CitySight.Delivery.Security.ConsumerAuthOptions, CitySight.Delivery.Security.ConsumerAuthOptions>? auth = null)
    {
        var store = new SqliteCaseStore(Path.Combine(_dir, "data-" + Guid.NewGuid().ToString("N")[..6]));
        _disposables.Add(store);
        var port = TestPorts.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Every interface: one test reaches the port through this machine's network address.
        builder.WebHost.ConfigureKestrel(k => GrpcSecurity.Listen(k, IPAddress.Any, port, grpc));
        builder.Services.AddCaseStore(store);
        var options = grpc.AuthOptions();
        builder.Services.AddCitySightDelivery(auth is null ? options : auth(options));
        var app = builder.Build();
        app.MapCitySightDelivery();
        await app.StartAsync();
        _servers.Add(app);
        return ($"{(https ? "https" : "http")}://localhost:{port}", store);
    }

    private static GrpcChannel Channel(string address, TestCertificates certs, X509Certificate2? clientCert)
    {
        var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => certs.Trusts(cert) };
        if (clientCert is not null) handler.ClientCertificates.Add(clientCert);
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    private static Domain.Case Sample(int n) => new()
    {
        Id = $"cs-test-{n}-{Guid.NewGuid():N}",
        CaseType = "illegal_parking",
        CameraId = "cam-1",
        GroupId = "g",
        FirstSeen = DateTimeOffset.UtcNow,
        LastSeen = DateTimeOffset.UtcNow,
    };
}
