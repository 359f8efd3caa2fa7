using CitySight.Delivery.Security;

namespace CitySight.Configuration;

/// <summary>delivery.grpc: TLS for the gRPC endpoint and consumer authentication.</summary>
internal static class GrpcSection
{
    public static GrpcEndpointOptions Read(Section delivery)
    {
        var g = new GrpcEndpointOptions();
        if (!delivery.Has("grpc") || delivery.Child("grpc") is not { } sec) return g;
        var clientCa = false;
        if (sec.Has("tls") && sec.Child("tls") is { } t)
        {
            clientCa = t.Has("client_ca");
            g = g with { TlsCert = t.ExistingFile("cert"), TlsKey = t.ExistingFile("key"), ClientCa = t.ExistingFile("client_ca") };
            if (!t.Has("cert")) t.Required("cert", "the server certificate (PEM)");
            if (!t.Has("key")) t.Required("key", "the server certificate's private key (PEM)");
        }
        var admins = Names(sec, "admin_consumers");
        var outcomes = Names(sec, "outcome_consumers");
        g = g with
        {
            ApiKeysEnv = sec.EnvName("api_keys_env", "consumer API keys as consumer=key pairs separated by commas"),
            AdminConsumers = admins ?? g.AdminConsumers,
            OutcomeConsumers = outcomes ?? g.OutcomeConsumers,
            AllowUnauthenticated = sec.Bool("allow_unauthenticated") ?? g.AllowUnauthenticated,
            Subscribers = new()
            {
                Total = sec.Int("max_subscribers") ?? g.Subscribers.Total,
                PerConsumer = sec.Int("max_subscribers_per_consumer") ?? g.Subscribers.PerConsumer,
            },
        };
        // Without keys or certificates every caller names itself: a list of who may close cases or run the admin API
        // would only look like a guard.
        if (!sec.Has("api_keys_env") && !clientCa)
        {
            if (outcomes is not null) NeedsAuthentication(sec, "outcome_consumers");
            if (admins is not null) NeedsAuthentication(sec, "admin_consumers");
        }
        return g;
    }

    private static void NeedsAuthentication(Section sec, string key) =>
        sec.Src.Error(sec.KeyMark(key), sec.Field(key), "needs consumer authentication to mean anything: set api_keys_env or tls.client_ca");

    private static List<string>? Names(Section sec, string key) =>
        sec.TextList(key)?.Select(i => i.Value.Trim()).Where(v => v.Length > 0).Distinct().ToList();
}
