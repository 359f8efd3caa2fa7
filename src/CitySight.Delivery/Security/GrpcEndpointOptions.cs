namespace CitySight.Delivery.Security;

/// <summary>
/// delivery.grpc: TLS of the gRPC port and who may call it. Paths are absolute and existed when loaded; the API keys
/// are named by environment variable only and read by <see cref="AuthOptions"/> at start-up.
/// </summary>
public sealed record GrpcEndpointOptions
{
    /// <summary>Server certificate and key (PEM): the gRPC port then speaks TLS only.</summary>
    public string? TlsCert { get; init; }
    public string? TlsKey { get; init; }
    /// <summary>When set, clients must present a certificate signed by this CA (its subject CN is the consumer).</summary>
    public string? ClientCa { get; init; }
    /// <summary>Environment variable with "consumer=key,consumer=key": every call then needs a valid x-api-key header.</summary>
    public string? ApiKeysEnv { get; init; }
    /// <summary>With authentication on, only these consumers may call the admin API (CameraAdmin); none listed: nobody.</summary>
    public IReadOnlyList<string> AdminConsumers { get; init; } = [];
    /// <summary>With authentication on, only these consumers may call ReportOutcome (close, reject); none listed: nobody.</summary>
    public IReadOnlyList<string> OutcomeConsumers { get; init; } = [];
    /// <summary>Lets the service listen beyond this machine without authentication (a warning at start and in /healthz).</summary>
    public bool AllowUnauthenticated { get; init; }
    /// <summary>delivery.grpc.max_subscribers and max_subscribers_per_consumer: caps on open Subscribe streams.</summary>
    public SubscriberLimits Subscribers { get; init; } = new();

    /// <summary>True when API keys or client certificates tell consumers apart.</summary>
    public bool Authenticates => ApiKeysEnv is not null || ClientCa is not null;

    /// <summary>
    /// Why the ports may not listen on <paramref name="bind"/>: beyond loopback nobody would be told apart. Null when
    /// they may (loopback, authentication on, or an open port accepted with <see cref="AllowUnauthenticated"/>).
    /// </summary>
    public string? ExposureRefusal(System.Net.IPAddress bind) =>
        System.Net.IPAddress.IsLoopback(bind) || Authenticates || AllowUnauthenticated
            ? null
            : "beyond this machine, but the gRPC port has no consumer authentication: configure delivery.grpc.api_keys_env "
              + "(API keys) or delivery.grpc.tls.client_ca (client certificates), with delivery.grpc.tls for TLS, or bind 127.0.0.1; "
              + "delivery.grpc.allow_unauthenticated: true accepts an open port";

    /// <summary>Who may call: the API keys from the environment variable named here, and client certificates.</summary>
    /// <exception cref="InvalidOperationException">The keys cannot be read (the message names the variable and entry, never a key).</exception>
    public ConsumerAuthOptions AuthOptions()
    {
        ConsumerKeys? keys = null;
        if (ApiKeysEnv is { } env)
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
        return new ConsumerAuthOptions
        {
            Keys = keys,
            ClientCertificates = ClientCa is not null,
            AdminConsumers = AdminConsumers.ToHashSet(StringComparer.Ordinal),
            OutcomeConsumers = OutcomeConsumers.ToHashSet(StringComparer.Ordinal),
        };
    }

    // The consumer lists compare by content (a loaded configuration is compared with an expected one).
    public bool Equals(GrpcEndpointOptions? other) =>
        other is not null && TlsCert == other.TlsCert && TlsKey == other.TlsKey && ClientCa == other.ClientCa
        && ApiKeysEnv == other.ApiKeysEnv && AdminConsumers.SequenceEqual(other.AdminConsumers)
        && OutcomeConsumers.SequenceEqual(other.OutcomeConsumers) && AllowUnauthenticated == other.AllowUnauthenticated
        && Subscribers == other.Subscribers;

    public override int GetHashCode() => HashCode.Combine(TlsCert, TlsKey, ClientCa, ApiKeysEnv, AdminConsumers.Count, OutcomeConsumers.Count, AllowUnauthenticated, Subscribers);
}
