using System.Net;
using CitySight.Delivery.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace CitySight.Service;

/// <summary>The gRPC port as delivery.grpc says: TLS with the configured certificate, client certificates, API keys.</summary>
public static class GrpcSecurity
{
    /// <summary>How long an HTTP/2 connection may stay silent before the server pings it.</summary>
    public static readonly TimeSpan KeepAlivePingDelay = TimeSpan.FromSeconds(30);

    /// <summary>How long a ping may go unanswered before the connection is closed.</summary>
    public static readonly TimeSpan KeepAlivePingTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Listens on the gRPC port: HTTP/2 over TLS when a certificate is configured, plain h2c otherwise. Idle connections
    /// are pinged, so a subscriber that vanished without closing (a dead NAT entry, a pulled cable) is noticed within
    /// about a minute and its stream ended, instead of holding a feed follower for ever.
    /// </summary>
    public static void Listen(KestrelServerOptions kestrel, IPAddress bind, int port, GrpcEndpointOptions g)
    {
        kestrel.Limits.Http2.KeepAlivePingDelay = KeepAlivePingDelay;
        kestrel.Limits.Http2.KeepAlivePingTimeout = KeepAlivePingTimeout;
        if (g.TlsCert is null || g.TlsKey is null)
        {
            On(kestrel, bind, port, o => o.Protocols = HttpProtocols.Http2);
            return;
        }
        var certificate = PemFiles.WithKey(g.TlsCert, g.TlsKey);
        var clientCa = g.ClientCa is null ? null : PemFiles.Authorities(g.ClientCa);
        On(kestrel, bind, port, o =>
        {
            o.Protocols = HttpProtocols.Http2;
            o.UseHttps(https =>
            {
                https.ServerCertificate = certificate;
                if (clientCa is null) return;
                // With API keys too, a certificate is one way in, not the only one.
                https.ClientCertificateMode = g.ApiKeysEnv is null ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.AllowCertificate;
                https.ClientCertificateValidation = (cert, _, _) => PemFiles.ChainsTo(cert, clientCa, ClientAuthentication);
            });
        });
    }

    /// <summary>A port on <paramref name="bind"/>; either "any" address listens on IPv4 and IPv6 alike.</summary>
    public static void On(KestrelServerOptions kestrel, IPAddress bind, int port, Action<ListenOptions> configure)
    {
        if (bind.Equals(IPAddress.Any) || bind.Equals(IPAddress.IPv6Any)) kestrel.ListenAnyIP(port, configure);
        else kestrel.Listen(bind, port, configure);
    }

    /// <summary>
    /// Whether the ports may listen where configured: on loopback always; elsewhere only with consumer authentication,
    /// or when delivery.grpc.allow_unauthenticated accepts an open port (the warning returned is logged and shown in /healthz).
    /// </summary>
    /// <exception cref="InvalidOperationException">Another address than loopback and nobody told apart; the message says what to configure.</exception>
    public static string? CheckExposure(IPAddress bind, GrpcEndpointOptions g)
    {
        if (g.ExposureRefusal(bind) is { } refusal) throw new InvalidOperationException($"service.bind_address is {bind}: {refusal}");
        if (IPAddress.IsLoopback(bind) || g.Authenticates) return null;
        return $"the gRPC port listens on {bind} without authentication (delivery.grpc.allow_unauthenticated): anyone who reaches it may "
               + "read every case and picture and close or reject cases";
    }

    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";
}
