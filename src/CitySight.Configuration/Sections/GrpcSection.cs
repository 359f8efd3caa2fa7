using CitySight.Delivery.Security;

namespace CitySight.Configuration;

/// <summary>delivery.grpc: TLS for the gRPC endpoint and consumer authentication.</summary>
internal static class GrpcSection
{
    public static GrpcEndpointOptions Read(Section delivery)
    {
        var g = new GrpcEndpointOptions();
        if (!delivery.Has("grpc") || delivery.Child("grpc") is not { } sec) return g;
        if (sec.Has("tls") && sec.Child("tls") is { } t)
        {
            g = g with { TlsCert = t.ExistingFile("cert"), TlsKey = t.ExistingFile("key"), ClientCa = t.ExistingFile("client_ca") };
            if (!t.Has("cert")) t.Required("cert", "the server certificate (PEM)");
            if (!t.Has("key")) t.Required("key", "the server certificate's private key (PEM)");
        }
        var admins = sec.TextList("admin_consumers")?.Select(i => i.Value.Trim()).Where(v => v.Length > 0).Distinct().ToList();
        return g with
        {
            ApiKeysEnv = sec.EnvName("api_keys_env", "consumer API keys as consumer=key pairs separated by commas"),
            AdminConsumers = admins ?? g.AdminConsumers,
        };
    }
}
