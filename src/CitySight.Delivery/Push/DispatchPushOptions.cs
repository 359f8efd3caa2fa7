namespace CitySight.Delivery.Push;

/// <summary>
/// How <see cref="DispatchPushClient"/> reaches the district's DispatchIntake endpoint: delivery.push, read into this record.
/// The configuration holds only <see cref="ApiKeyEnv"/>; <see cref="WithApiKeyFromEnvironment"/> reads the key at start-up.
/// <see cref="ToString"/> never shows the key.
/// </summary>
public sealed record DispatchPushOptions
{
    /// <summary>http:// (h2c) or https:// address of the DispatchIntake service.</summary>
    public required Uri Endpoint { get; init; }
    /// <summary>The store consumer (outbox cursor) this client advances on receipts.</summary>
    public string Consumer { get; init; } = DefaultConsumer;

    /// <summary>The outbox cursor's name unless delivery.push.consumer says otherwise; never movable through CaseFeed.</summary>
    public const string DefaultConsumer = "dispatch-push";
    /// <summary>Sent as <c>x-api-key</c> metadata on every call when set. A secret: never logged.</summary>
    public string? ApiKey { get; init; }
    /// <summary>The environment variable holding <see cref="ApiKey"/> (delivery.push.api_key_env), checked to be set when the config is loaded.</summary>
    public string? ApiKeyEnv { get; init; }
    /// <summary>PEM file with the CA(s) that signed dispatch's certificate; null: the system trust store.</summary>
    public string? CaFile { get; init; }
    /// <summary>PEM client certificate and key presented to dispatch (both or neither).</summary>
    public string? ClientCert { get; init; }
    public string? ClientKey { get; init; }
    /// <summary>Send each case's evidence JPEG in <c>evidence_jpeg</c>.</summary>
    public bool IncludeEvidence { get; init; } = true;
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>At most this many events beyond the cursor are in flight (sent, not yet covered by contiguous receipts).</summary>
    public int Window { get; init; } = 64;
    /// <summary>The oldest event still without a receipt after this long ends the call; the next one re-sends it.</summary>
    public TimeSpan ReceiptTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>HTTP/2 keep-alive ping interval, so a silently dropped connection is noticed on an idle stream.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>These options with <see cref="ApiKey"/> read from <see cref="ApiKeyEnv"/> now (start-up; never logged).</summary>
    /// <exception cref="InvalidOperationException">The variable is not set; the message names it, never a value.</exception>
    public DispatchPushOptions WithApiKeyFromEnvironment()
    {
        if (ApiKeyEnv is not { } env) return this;
        var key = Environment.GetEnvironmentVariable(env)
            ?? throw new InvalidOperationException($"delivery.push.api_key_env: environment variable {env} is not set");
        return this with { ApiKey = key };
    }

    public override string ToString() => Endpoint.GetLeftPart(UriPartial.Path);
}
