using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CitySight.Delivery;

/// <summary>
/// A real Kestrel on 127.0.0.1, a free port, HTTP/2 without TLS, hosting the gRPC services the caller maps: for the
/// bench and for tests that need a real server on either side of a stream (CitySight's feed, or a dispatch intake).
/// </summary>
public sealed class LoopbackGrpcServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackGrpcServer(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>http://127.0.0.1:port</summary>
    public string Address { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<LoopbackGrpcServer> StartAsync(Action<IServiceCollection> services, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        services(builder.Services);
        var app = builder.Build();
        map(app);
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new LoopbackGrpcServer(app, address);
    }

    /// <summary>The case feed over <paramref name="store"/>, wired the way the host wires delivery (the caller keeps the store).</summary>
    public static Task<LoopbackGrpcServer> CaseFeedAsync(Cases.ICaseStore store, Security.ConsumerAuthOptions? auth = null,
        SubscriberLimits? subscribers = null) =>
        StartAsync(s =>
        {
            s.AddCaseStore(store);   // an instance: the container does not dispose it
            s.AddCitySightDelivery(auth, subscribers);
        }, app => app.MapCitySightDelivery());

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(cts.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
