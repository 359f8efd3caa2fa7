using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;

namespace CitySight.Delivery.Push;

/// <summary>The gRPC channel to the district's DispatchIntake endpoint, as delivery.push describes it.</summary>
public static class DispatchIntakeChannel
{
    /// <summary>h2c for http://, TLS (custom CA, client certificate) for https://; keep-alive pings on long idle streams.</summary>
    public static GrpcChannel Create(DispatchPushOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            KeepAlivePingDelay = options.KeepAlive,
            KeepAlivePingTimeout = TimeSpan.FromSeconds(Math.Max(5, options.KeepAlive.TotalSeconds / 2)),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            EnableMultipleHttp2Connections = true,
        };
        if (options.Endpoint.Scheme == Uri.UriSchemeHttps) handler.SslOptions = TlsOptions(options);
        return GrpcChannel.ForAddress(options.Endpoint, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxSendMessageSize = null,        // evidence JPEGs
            MaxReceiveMessageSize = 64 * 1024, // receipts are tiny
        });
    }

    private static SslClientAuthenticationOptions TlsOptions(DispatchPushOptions options)
    {
        var ssl = new SslClientAuthenticationOptions();
        if (options.CaFile is { Length: > 0 } caFile)
        {
            var cas = Security.PemFiles.Authorities(caFile);
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(cas);
            ssl.CertificateChainPolicy = policy;
        }
        if (options.ClientCert is { Length: > 0 } cert && options.ClientKey is { Length: > 0 } key)
        {
            ssl.ClientCertificates = [Security.PemFiles.WithKey(cert, key)];
        }
        return ssl;
    }
}
