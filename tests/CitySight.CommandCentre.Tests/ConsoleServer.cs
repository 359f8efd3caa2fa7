using CitySight.Cases.Sqlite;
using CitySight.Delivery;
using CitySight.Delivery.Security;
using CitySight.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CitySight.CommandCentre.Tests;

/// <summary>
/// The console alone on a real Kestrel port on loopback, over a real SQLite store, with the cameras given: what the
/// host maps, without the pipeline (no model, no cameras running).
/// </summary>
internal sealed class ConsoleServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ConsoleServer(WebApplication app, SqliteCaseStore store, int port)
    {
        _app = app;
        Store = store;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public SqliteCaseStore Store { get; }
    public HttpClient Http { get; }

    /// <param name="configure">Changes to what the host would hand the console (a detector, a map base).</param>
    public static async Task<ConsoleServer> StartAsync(ConsumerAuthOptions? auth = null, IReadOnlyList<ConsoleCamera>? cameras = null,
        TimeProvider? time = null, Func<CommandCentreOptions, CommandCentreOptions>? configure = null)
    {
        var store = new SqliteCaseStore(Path.Combine(TestAssets.TempDir("console"), "data"));
        var port = TestPorts.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenLocalhost(port, o => o.Protocols = HttpProtocols.Http1));
        builder.Services.AddCaseStore(store);
        builder.Services.AddSingleton(auth ?? new ConsumerAuthOptions());
        builder.Services.AddSingleton(time ?? TimeProvider.System);
        builder.Services.AddCommandCentre();
        var app = builder.Build();
        var options = new CommandCentreOptions { Cameras = () => cameras ?? [], Port = port, TimeZone = TimeZoneInfo.Utc };
        app.MapCommandCentre(configure?.Invoke(options) ?? options);
        await app.StartAsync();
        return new ConsoleServer(app, store, port);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Store.Dispose();
    }
}
