using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace CitySight.Ingest;

/// <summary>
/// A verified TLS connection to an rtsps camera for one ffmpeg run. ffmpeg 5.1's RTSP demuxer opens its TLS connection
/// without the caller's options, so it cannot verify a certificate; instead ffmpeg reads plain
/// <c>rtsp://127.0.0.1:PORT/…</c> from this relay, which opens TLS to the camera itself and checks the camera's
/// certificate against the configured CA (<see cref="VideoReadOptions.RtspsCaFile"/>) and the URL's host name before a
/// byte passes. The RTSP messages pass unchanged (a camera matches its mounts by path, and digest authentication hashes
/// the request line as sent); with RTP interleaved over TCP this one connection carries everything.
/// </summary>
internal sealed class RtspsRelay : IAsyncDisposable
{
    private const int DefaultRtspsPort = 322;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly X509Certificate2Collection _trusted;
    private readonly string _host;
    private readonly int _port;
    private readonly Task _accepting;
    private readonly List<Task> _relays = [];
    private RelayFailure? _failure;
    private int _reached;

    private RtspsRelay(string url, X509Certificate2Collection trusted, string userInfo, string host, int port, string pathAndQuery)
    {
        _trusted = trusted;
        _host = host;
        _port = port;
        _listener.Start();
        var local = ((IPEndPoint)_listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
        LocalUrl = $"rtsp://{userInfo}127.0.0.1:{local}{pathAndQuery}";
        CameraUrl = url;
        _accepting = AcceptAsync();
    }

    /// <summary>What ffmpeg opens instead of the camera's URL (the same credentials, path and query).</summary>
    public string LocalUrl { get; }

    public string CameraUrl { get; }

    /// <summary>
    /// Why the camera was not trusted (Unauthorized: retried slowly, like a wrong password) or not reached, in a few words;
    /// null while nothing failed. ffmpeg only sees its connection to the relay close, so this is the reason to report.
    /// </summary>
    public RelayFailure? Failure => Volatile.Read(ref _failure);

    /// <summary>
    /// Whether a verified connection to the camera was made. ffmpeg's "connected" only means it reached the relay: an
    /// unreachable camera is a timeout, not a hung one.
    /// </summary>
    public bool Reached => Volatile.Read(ref _reached) != 0;

    /// <summary>
    /// A relay for an rtsps URL when a CA file is configured; null otherwise (ffmpeg then connects itself, unverified).
    /// Throws <see cref="StreamException"/> (InvalidData) when the CA file cannot be read or the URL has no host.
    /// </summary>
    public static RtspsRelay? For(string cameraId, string url, string? caFile)
    {
        if (string.IsNullOrWhiteSpace(caFile) || !url.StartsWith("rtsps://", StringComparison.OrdinalIgnoreCase)) return null;
        var trusted = new X509Certificate2Collection();
        try
        {
            trusted.ImportFromPemFile(caFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw StreamException.Create(cameraId, url, StreamFailureKind.InvalidData, $"cannot read the rtsps CA file: {e.Message}");
        }
        if (trusted.Count == 0)
            throw StreamException.Create(cameraId, url, StreamFailureKind.InvalidData, "the rtsps CA file holds no certificate");
        if (!TrySplit(url, out var userInfo, out var host, out var port, out var rest))
            throw StreamException.Create(cameraId, url, StreamFailureKind.InvalidData, "the rtsps URL names no host");
        return new RtspsRelay(url, trusted, userInfo, host, port, rest);
    }

    /// <summary>rtsps://[user[:pass]@]host[:port][/path][?query] → its parts (userInfo with its '@'; IPv6 hosts without brackets).</summary>
    internal static bool TrySplit(string url, out string userInfo, out string host, out int port, out string pathAndQuery)
    {
        const int start = 8; // "rtsps://"
        var end = url.IndexOfAny(['/', '?'], start);
        if (end < 0) end = url.Length;
        var authority = url[start..end];
        pathAndQuery = url[end..];
        var at = authority.LastIndexOf('@');
        userInfo = at >= 0 ? authority[..(at + 1)] : "";
        var hostPort = authority[(at + 1)..];
        port = DefaultRtspsPort;
        var colon = hostPort.LastIndexOf(':');
        if (colon >= 0 && colon > hostPort.LastIndexOf(']'))
        {
            if (!int.TryParse(hostPort.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            {
                host = "";
                return false;
            }
            hostPort = hostPort[..colon];
        }
        host = hostPort.Trim('[', ']');
        return host.Length > 0;
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
                lock (_relays) _relays.Add(RelayAsync(client));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // stopped
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var camera = new TcpClient())
        {
            try
            {
                await camera.ConnectAsync(_host, _port, _stop.Token).ConfigureAwait(false);
                await using var tls = new SslStream(camera.GetStream(), leaveInnerStreamOpen: false);
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = _host,
                    RemoteCertificateValidationCallback = Verify,
                }, _stop.Token).ConfigureAwait(false);
                Volatile.Write(ref _reached, 1);
                var local = client.GetStream();
                // Either side ending ends both: ffmpeg sees the camera's close as its own.
                await Task.WhenAny(local.CopyToAsync(tls, _stop.Token), tls.CopyToAsync(local, _stop.Token)).ConfigureAwait(false);
            }
            catch (AuthenticationException) when (Failure is not null)
            {
                // Verify said why
            }
            catch (SocketException e)
            {
                Fail(e.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => StreamFailureKind.ConnectionRefused,
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => StreamFailureKind.UnknownHost,
                    SocketError.TimedOut => StreamFailureKind.Timeout,
                    _ => StreamFailureKind.ConnectionLost,
                }, $"rtsps: {e.Message}");
            }
            catch (Exception e) when (e is IOException or AuthenticationException)
            {
                Fail(StreamFailureKind.ConnectionLost, $"rtsps: {e.Message}");
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                // the run ended
            }
        }
    }

    /// <summary>The camera's chain must end at a configured CA (the system's roots do not count), for the URL's host.</summary>
    private bool Verify(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
            return Reject("the camera presented no certificate");
        if ((errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
            return Reject($"the camera's certificate is not for {_host}");
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_trusted);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // cameras sit on closed networks: no CRL to reach
        if (chain is not null)
            foreach (var element in chain.ChainElements) custom.ChainPolicy.ExtraStore.Add(element.Certificate);
        var cert = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (custom.Build(cert)) return true;
        var status = string.Join(", ", custom.ChainStatus.Select(s => s.Status.ToString()).Distinct());
        return Reject($"the camera's certificate is not trusted ({status})");
    }

    private bool Reject(string reason)
    {
        Fail(StreamFailureKind.Unauthorized, reason);
        return false;
    }

    private void Fail(StreamFailureKind kind, string reason) => Interlocked.CompareExchange(ref _failure, new RelayFailure(kind, reason), null);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _accepting.ConfigureAwait(false);
        Task[] relays;
        lock (_relays) relays = [.. _relays];
        await Task.WhenAll(relays).ConfigureAwait(false);
        _stop.Dispose();
    }
}

/// <summary>What went wrong between the relay and the camera.</summary>
internal sealed record RelayFailure(StreamFailureKind Kind, string Reason);
