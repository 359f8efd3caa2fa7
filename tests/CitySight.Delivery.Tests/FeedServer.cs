using System.Net;
using CitySight.Cases;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CitySight.Delivery.Tests;

/// <summary>A real Kestrel on 127.0.0.1, a free port, HTTP/2 without TLS, wired the way the host wires delivery.</summary>
internal sealed class FeedServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FeedServer(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>http://127.0.0.1:port</summary>
    public string Address { get; }

    public static async Task<FeedServer> StartAsync(CaseStore store)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddSingleton(store); // an instance: the container will not dispose it, the test does
        builder.Services.AddCitySightDelivery();
        var app = builder.Build();
        app.MapCitySightDelivery();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>()
            .Addresses.Single();
        return new FeedServer(app, address);
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(Samples.TestTimeout);
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }
}
