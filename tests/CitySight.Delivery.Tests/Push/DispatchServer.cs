using System.Collections.Concurrent;
using System.Net;
using CitySight.Delivery.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CitySight.Delivery.Tests.Push;

/// <summary>One event as the test dispatch took it: on which call (1, 2, …), with which sequence, kind and case.</summary>
internal sealed record Taken(int Call, long Sequence, CaseEventKind Kind, string CaseId, CitySight.Delivery.V1.Case Case);

/// <summary>
/// What the test dispatch system saw, across restarts of its server: events, calls and their x-api-key, plus the
/// behaviour the test asks for (which events get a receipt, which key is accepted).
/// </summary>
internal sealed class DispatchLog
{
    private readonly ConcurrentQueue<Taken> _taken = new();
    private readonly ConcurrentQueue<(DateTime At, string? ApiKey)> _calls = new();
    private CancellationTokenSource _endCalls = new();
    private int _callCount;

    /// <summary>Whether to receipt an event (call number, event); default: every one.</summary>
    public Func<int, CaseEvent, bool> ShouldReceipt { get; set; } = (_, _) => true;
    /// <summary>When set, a call without exactly this x-api-key is answered UNAUTHENTICATED.</summary>
    public string? ExpectedKey { get; set; }

    public IReadOnlyList<Taken> Taken => _taken.ToArray();
    public IReadOnlyList<(DateTime At, string? ApiKey)> Calls => _calls.ToArray();

    /// <summary>Ends every open Deliver call (UNAVAILABLE), as a dispatch that drops its streams would.</summary>
    public void EndCalls()
    {
        var old = Interlocked.Exchange(ref _endCalls, new CancellationTokenSource());
        old.Cancel();
    }

    internal (int Call, CancellationToken End) NewCall(string? apiKey)
    {
        _calls.Enqueue((DateTime.UtcNow, apiKey));
        return (Interlocked.Increment(ref _callCount), Volatile.Read(ref _endCalls).Token);
    }

    internal void Add(Taken t) => _taken.Enqueue(t);
}

/// <summary>The dispatch side of DispatchIntake, as a district would host it.</summary>
internal sealed class TestIntake(DispatchLog log, IHostApplicationLifetime life) : DispatchIntake.DispatchIntakeBase
{
    public override async Task Deliver(IAsyncStreamReader<CaseEvent> requestStream, IServerStreamWriter<Receipt> responseStream, ServerCallContext context)
    {
        var key = context.RequestHeaders.GetValue("x-api-key");
        var (call, end) = log.NewCall(key);
        if (log.ExpectedKey is { } expected && key != expected)
            // A careless server echoing the key back: the client must still never log it.
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"x-api-key '{key}' is not valid here"));
        await context.WriteResponseHeadersAsync(new Metadata());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, life.ApplicationStopping, end);
        try
        {
            while (await requestStream.MoveNext(stop.Token))
            {
                var e = requestStream.Current;
                log.Add(new Taken(call, (long)e.Sequence, e.Kind, e.Case.Id, e.Case));
                if (log.ShouldReceipt(call, e))
                    await responseStream.WriteAsync(new Receipt { Sequence = e.Sequence, CaseId = e.Case.Id }, stop.Token);
            }
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "dispatch is going away"));
        }
    }
}

/// <summary>A real Kestrel on 127.0.0.1 (a free port, or a given one to come back on), HTTP/2 without TLS, hosting <see cref="TestIntake"/>.</summary>
internal sealed class DispatchServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private DispatchServer(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }
    public Uri Address => new($"http://127.0.0.1:{Port}");

    public static async Task<DispatchServer> StartAsync(DispatchLog log, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 16 * 1024 * 1024);
        builder.Services.AddSingleton(log);
        var app = builder.Build();
        app.MapGrpcService<TestIntake>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new DispatchServer(app, new Uri(address).Port);
    }

    /// <summary>Goes away now: open calls end (UNAVAILABLE), connections are closed without waiting for anyone.</summary>
    public async Task StopAsync()
    {
        if (_stopped) return;
        _stopped = true;
        try { await _app.StopAsync(new CancellationToken(canceled: true)); } catch (OperationCanceledException) { }
        await _app.DisposeAsync();
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}
