using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace CitySight.Ingest.Tests;

/// <summary>An rtsps camera for the tests: TLS with the given certificate in front of a plain RTSP server (the simulator).</summary>
internal sealed class TlsFront : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly X509Certificate2 _certificate;
    private readonly int _backendPort;
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;
    private int _forwarded;

    public TlsFront(X509Certificate2 certificate, int backendPort)
    {
        _certificate = certificate;
        _backendPort = backendPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections that sent RTSP through (a client that refuses the certificate closes before its first byte).</summary>
    public int Forwarded => Volatile.Read(ref _forwarded);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                lock (_connections) _connections.Add(ServeAsync(client));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var backend = new TcpClient())
        {
            try
            {
                await using var tls = new SslStream(client.GetStream());
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, _stop.Token);
                var first = new byte[4096];
                var n = await tls.ReadAsync(first, _stop.Token);
                if (n == 0) return;
                Interlocked.Increment(ref _forwarded);
                await backend.ConnectAsync(IPAddress.Loopback, _backendPort, _stop.Token);
                var plain = backend.GetStream();
                await plain.WriteAsync(first.AsMemory(0, n), _stop.Token);
                await Task.WhenAny(tls.CopyToAsync(plain, _stop.Token), plain.CopyToAsync(tls, _stop.Token));
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException
                                          or System.Security.Authentication.AuthenticationException) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] open;
        lock (_connections) open = [.. _connections];
        await Task.WhenAll(open);
        _stop.Dispose();
    }
}
