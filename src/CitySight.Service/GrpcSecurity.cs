using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using CitySight.Configuration;
using CitySight.Delivery.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace CitySight.Service;

/// <summary>The gRPC port as delivery.grpc says: TLS with the configured certificate, client certificates, API keys.</summary>
public static class GrpcSecurity
{
    /// <summary>Listens on the gRPC port: HTTP/2 over TLS when a certificate is configured, plain h2c otherwise.</summary>
    public static void Listen(KestrelServerOptions kestrel, int port, GrpcSettings g)
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

    /// <summary>Who may call: the API keys from the environment variable named in config, and client certificates.</summary>
    /// <exception cref="InvalidOperationException">The keys cannot be read (the message names the variable and entry, never a key).</exception>
    public static ConsumerAuthOptions AuthOptions(GrpcSettings g)
    {
        ConsumerKeys? keys = null;
        if (g.ApiKeysEnv is { } env)
        {
            var text = Environment.GetEnvironmentVariable(env)
                ?? throw new InvalidOperationException($"delivery.grpc.api_keys_env: environment variable {env} is not set");
            try
            {
                keys = ConsumerKeys.Parse(text, $"environment variable {env}");
            }
            catch (FormatException ex)
            {
                throw new InvalidOperationException($"delivery.grpc.api_keys_env: {ex.Message}", ex);
            }
        }
        return new ConsumerAuthOptions { Keys = keys, ClientCertificates = g.ClientCa is not null, AdminConsumers = g.AdminConsumers.ToHashSet(StringComparer.Ordinal) };
    }

    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";
}
