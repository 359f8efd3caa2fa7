using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CitySight.Delivery.V1;
using CitySight.Tests;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
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
    private readonly ConcurrentQueue<(DateTime At, string? ApiKey, string? ClientName)> _calls = new();
    private readonly ConcurrentQueue<DateTime> _connections = new();
    private readonly ConcurrentQueue<string?> _tlsSessions = new();
    private CancellationTokenSource _endCalls = new();
    private int _callCount;

    /// <summary>Whether to receipt an event (call number, event); default: every one.</summary>
    public Func<int, CaseEvent, bool> ShouldReceipt { get; set; } = (_, _) => true;
    /// <summary>When set, a call without exactly this x-api-key is answered UNAUTHENTICATED.</summary>
    public string? ExpectedKey { get; set; }

    public IReadOnlyList<Taken> Taken => _taken.ToArray();
    /// <summary>Every Deliver call: when, its x-api-key, and the CN of the client certificate it came with (TLS only).</summary>
    public IReadOnlyList<(DateTime At, string? ApiKey, string? ClientName)> Calls => _calls.ToArray();
    /// <summary>TCP connections accepted, before any TLS handshake.</summary>
    public IReadOnlyList<DateTime> Connections => _connections.ToArray();
    /// <summary>Completed TLS handshakes, each with its client certificate's CN (null: none presented).</summary>
    public IReadOnlyList<string?> TlsSessions => _tlsSessions.ToArray();

    /// <summary>Ends every open Deliver call (UNAVAILABLE), as a dispatch that drops its streams would.</summary>
    public void EndCalls()
    {
        var old = Interlocked.Exchange(ref _endCalls, new CancellationTokenSource());
        old.Cancel();
    }

    internal void Connected() => _connections.Enqueue(DateTime.UtcNow);
    internal void Handshook(string? clientName) => _tlsSessions.Enqueue(clientName);

    internal (int Call, CancellationToken End) NewCall(string? apiKey, string? clientName = null)
    {
        _calls.Enqueue((DateTime.UtcNow, apiKey, clientName));
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
        var (call, end) = log.NewCall(key, DispatchTls.NameOf(context.GetHttpContext().Connection.ClientCertificate));
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

/// <summary>How the test dispatch serves TLS: its certificate (with key) and, when set, the CA client certificates must chain to.</summary>
/// <param name="ClientCa">Set: every connection must present a client certificate signed by this CA (RequireCertificate).</param>
internal sealed record DispatchTls(X509Certificate2 ServerCertificate, X509Certificate2? ClientCa = null)
{
    public static string? NameOf(X509Certificate2? cert) => cert?.GetNameInfo(X509NameType.SimpleName, forIssuer: false);

    internal bool SignedByClientCa(X509Certificate2 cert)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ClientCa!);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.2"));   // client authentication
        return chain.Build(cert);
    }
}

/// <summary>
/// A real Kestrel on 127.0.0.1 (a free port, or a given one to come back on) hosting <see cref="TestIntake"/>: HTTP/2
/// without TLS, or with <see cref="DispatchTls"/> HTTP/2 over TLS at https://localhost:PORT.
/// </summary>
internal sealed class DispatchServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private DispatchServer(WebApplication app, int port, bool tls)
    {
        _app = app;
        Port = port;
        Address = tls ? new Uri($"https://localhost:{port}") : new Uri($"http://127.0.0.1:{port}");
    }

    public int Port { get; }
    public Uri Address { get; }

    public static async Task<DispatchServer> StartAsync(DispatchLog log, int port = 0, DispatchTls? tls = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l =>
        {
            l.Protocols = HttpProtocols.Http2;
            if (tls is null) return;
            l.Use(next => connection =>
            {
                log.Connected();   // before the handshake: attempts that never get through TLS count too
                return next(connection);
            });
            l.UseHttps(https =>
            {
                https.ServerCertificate = tls.ServerCertificate;
                if (tls.ClientCa is null) return;
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificateValidation = (cert, _, _) => tls.SignedByClientCa(cert);
            });
            l.Use(next => connection =>
            {
                log.Handshook(DispatchTls.NameOf(connection.Features.Get<ITlsConnectionFeature>()?.ClientCertificate));
                return next(connection);
            });
        }));
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 16 * 1024 * 1024);
        builder.Services.AddSingleton(log);
        var app = builder.Build();
        app.MapGrpcService<TestIntake>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new DispatchServer(app, new Uri(address).Port, tls is not null);
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

/// <summary>What every push test does with its client at the end.</summary>
internal static class PushClients
{
    /// <summary>Stops the client (its call is cancelled) within the test timeout, then disposes it.</summary>
    public static async Task StopAsync(CitySight.Delivery.Push.DispatchPushClient client)
    {
        using var cts = new CancellationTokenSource(CaseSamples.TestTimeout);
        await client.StopAsync(cts.Token);
        client.Dispose();
    }
}
