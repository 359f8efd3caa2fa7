using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using CitySight.Delivery.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace CitySight.Service;

/// <summary>The gRPC port as delivery.grpc says: TLS with the configured certificate, client certificates, API keys.</summary>
public static class GrpcSecurity
{
    /// <summary>Listens on the gRPC port: HTTP/2 over TLS when a certificate is configured, plain h2c otherwise.</summary>
    public static void Listen(KestrelServerOptions kestrel, int port, GrpcEndpointOptions g)
    {
        if (g.TlsCert is null || g.TlsKey is null)
        {
            kestrel.ListenAnyIP(port, o => o.Protocols = HttpProtocols.Http2);
            return;
        }
        var certificate = PemFiles.WithKey(g.TlsCert, g.TlsKey);
        var clientCa = g.ClientCa is null ? null : PemFiles.Authorities(g.ClientCa);
        kestrel.ListenAnyIP(port, o =>
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

    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";
}
