namespace CitySight.Delivery.Mqtt;

/// <summary>
/// How the MQTT publisher reaches its broker: <c>delivery.mqtt</c> in configs/citysight.yaml, read into this record.
/// The configuration holds only <see cref="PasswordEnv"/>, the NAME of the variable; <see cref="WithPasswordFromEnvironment"/>
/// reads <see cref="Password"/> at start-up, which is never logged: <see cref="ToString"/> leaves it out.
/// </summary>
public sealed record MqttOptions
{
    public const string DefaultTopicPrefix = "citysight/v1";

    public required string Host { get; init; }
    /// <summary>0 = the default: 1883, or 8883 with TLS.</summary>
    public int Port { get; init; }
    public string ClientId { get; init; } = DefaultClientId();
    public string TopicPrefix { get; init; } = DefaultTopicPrefix;
    public string? Username { get; init; }
    /// <summary>The environment variable holding the password (delivery.mqtt.password_env), checked to be set when the config is loaded.</summary>
    public string? PasswordEnv { get; init; }
    /// <summary>Secret: never logged, never put in an exception message.</summary>
    public string? Password { get; init; }
    public MqttTlsOptions Tls { get; init; } = new();
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long one connection attempt may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Reconnect backoff: starts here, doubles per failed attempt up to <see cref="MaxBackoff"/>, with ±20% jitter.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The broker port when TLS is on and no port is set (MQTT over TLS).</summary>
    public const int DefaultTlsPort = 8883;
    /// <summary>The broker port without TLS when no port is set.</summary>
    public const int DefaultPort = 1883;

    public int EffectivePort => Port > 0 ? Port : Tls.Enabled ? DefaultTlsPort : DefaultPort;

    /// <summary>These options with <see cref="Password"/> read from <see cref="PasswordEnv"/> now (start-up).</summary>
    /// <exception cref="InvalidOperationException">The variable is not set; the message names it, never a value.</exception>
    public MqttOptions WithPasswordFromEnvironment()
    {
        if (PasswordEnv is not { } env) return this;
        var password = Environment.GetEnvironmentVariable(env)
            ?? throw new InvalidOperationException($"delivery.mqtt.password_env: environment variable {env} is not set");
        return this with { Password = password };
    }

    /// <summary>The case store consumer whose cursor this publisher advances.</summary>
    public string ConsumerName => ConsumerPrefix + ClientId;

    /// <summary>Every publisher's cursor starts so; CaseFeed refuses such names (see ConsumerAuthOptions.IsInternal).</summary>
    public const string ConsumerPrefix = "mqtt:";

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
