namespace CitySight.Delivery.Mqtt;

/// <summary>
/// How the MQTT publisher reaches its broker. Built by the host from <c>delivery.mqtt</c> in configs/citysight.yaml;
/// <see cref="Password"/> is the value of the environment variable the config names and is never logged:
/// <see cref="ToString"/> leaves it out.
/// </summary>
public sealed class MqttOptions
{
    public const string DefaultTopicPrefix = "citysight/v1";

    public required string Host { get; init; }
    /// <summary>0 = the default: 1883, or 8883 with TLS.</summary>
    public int Port { get; init; }
    public string ClientId { get; init; } = DefaultClientId();
    public string TopicPrefix { get; init; } = DefaultTopicPrefix;
    public string? Username { get; init; }
    /// <summary>Secret: never logged, never put in an exception message.</summary>
    public string? Password { get; init; }
    public MqttTlsOptions Tls { get; init; } = new();
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long one connection attempt may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Reconnect backoff: starts here, doubles per failed attempt up to <see cref="MaxBackoff"/>, with ±20% jitter.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    public int EffectivePort => Port > 0 ? Port : Tls.Enabled ? 8883 : 1883;

    /// <summary>The case store consumer whose cursor this publisher advances.</summary>
    public string ConsumerName => "mqtt:" + ClientId;

    public static string DefaultClientId() => "citysight-" + Environment.MachineName.ToLowerInvariant();

    /// <summary>Safe to log: no password.</summary>
    public override string ToString() =>
        $"{(Tls.Enabled ? "mqtts" : "mqtt")}://{(Username is { Length: > 0 } u ? u + "@" : "")}{Host}:{EffectivePort} client_id={ClientId} prefix={TopicPrefix}";
}

public sealed record MqttTlsOptions
{
    public bool Enabled { get; init; }
    /// <summary>PEM CA certificate the broker's certificate must chain to; null = the system trust store.</summary>
    public string? CaFile { get; init; }
    /// <summary>PEM client certificate and key, both or neither.</summary>
    public string? ClientCert { get; init; }
    public string? ClientKey { get; init; }
    /// <summary>Accept any broker certificate (test benches only).</summary>
    public bool AllowUntrusted { get; init; }
}
