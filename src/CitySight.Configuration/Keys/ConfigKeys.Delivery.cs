using CitySight.Delivery.Mqtt;
using CitySight.Delivery.Push;
using CitySight.Delivery.Security;
using static CitySight.Configuration.ConfigKeyKind;

namespace CitySight.Configuration;

/// <summary>The keys of citysight.yaml's delivery section (see the recipe in ConfigKeys.cs).</summary>
public static partial class ConfigKeys
{
    private static IEnumerable<ConfigKey> DeliveryKeys()
    {
        yield return Container(M, "delivery", Mapping, "Channels that deliver cases beside the gRPC case feed.");

        yield return Container(M, "delivery.mqtt", Mapping, "Publish cases and camera states to an MQTT broker.");
        var mqtt = new KeysOf<MqttOptions>(M, new() { Host = "" }, c => c.Delivery.Mqtt ?? new() { Host = "" });
        yield return mqtt.Key("delivery.mqtt.host", Text, m => m.Host, "The broker's host name or address.", "broker2.example", required: true);
        yield return mqtt.Key("delivery.mqtt.port", Int, m => m.EffectivePort, "Broker port; with tls the default is MqttOptions.DefaultTlsPort (8883).", "1884", min: 1, max: 65535);
        yield return mqtt.Key("delivery.mqtt.client_id", Text, m => m.ClientId, "MQTT client id: 1 to 64 of letters, digits, '.', '_', '-'.", "citysight-sample");
        yield return mqtt.Key("delivery.mqtt.topic_prefix", Text, m => m.TopicPrefix, "Topic levels before cases/..., cameras/... and service/...", "city/v2");
        yield return mqtt.Key("delivery.mqtt.username", Text, m => m.Username, "User name at the broker.", "someone");
        yield return mqtt.Key("delivery.mqtt.password_env", EnvName, m => m.PasswordEnv, "NAME of the environment variable with the password.", SampleSecretEnv);
        yield return Container(M, "delivery.mqtt.tls", Mapping, "TLS to the broker; on once the section is given.");
        var mqttTls = new KeysOf<MqttTlsOptions>(M, new(), c => (c.Delivery.Mqtt ?? new() { Host = "" }).Tls);
        yield return mqttTls.Key("delivery.mqtt.tls.enabled", Bool, t => t.Enabled, "TLS on (true once a tls section is given).", "false", hasDefault: false);
        yield return mqttTls.Key("delivery.mqtt.tls.ca_file", ConfigKeyKind.File, t => t.CaFile, "PEM CA(s) the broker's certificate must chain to; default: system trust.", SampleFile);
        yield return mqttTls.Key("delivery.mqtt.tls.client_cert", ConfigKeyKind.File, t => t.ClientCert, "PEM client certificate (with client_key).", SampleFile);
        yield return mqttTls.Key("delivery.mqtt.tls.client_key", ConfigKeyKind.File, t => t.ClientKey, "PEM client key (with client_cert).", SampleFile);
        yield return mqttTls.Key("delivery.mqtt.tls.allow_untrusted", Bool, t => t.AllowUntrusted, "Accept any broker certificate (test benches only).", "true");
        yield return mqtt.Key("delivery.mqtt.keep_alive", Duration, m => m.KeepAlive, "MQTT keep-alive.", "45s", min: 0, max: 65535, minExclusive: true);

        yield return Container(M, "delivery.grpc", Mapping, "TLS and consumer authentication of the gRPC port.");
        var grpc = new KeysOf<GrpcEndpointOptions>(M, new(), c => c.Delivery.Grpc);
        yield return Container(M, "delivery.grpc.tls", Mapping, "Server certificate: the gRPC port then speaks TLS only.");
        yield return grpc.Key("delivery.grpc.tls.cert", ConfigKeyKind.File, g => g.TlsCert, "PEM server certificate.", SampleFile, required: true);
        yield return grpc.Key("delivery.grpc.tls.key", ConfigKeyKind.File, g => g.TlsKey, "PEM private key of the server certificate.", SampleFile, required: true);
        yield return grpc.Key("delivery.grpc.tls.client_ca", ConfigKeyKind.File, g => g.ClientCa, "Clients may (with keys) or must present a certificate signed by this CA.", SampleFile);
        yield return grpc.Key("delivery.grpc.api_keys_env", EnvName, g => g.ApiKeysEnv, "NAME of the environment variable with consumer=key pairs.", SampleSecretEnv);
        yield return grpc.Key("delivery.grpc.admin_consumers", TextList, g => string.Join(";", g.AdminConsumers), "Consumers that may call the admin API once authentication is on.", "[ops]");
        yield return grpc.Key("delivery.grpc.outcome_consumers", TextList, g => string.Join(";", g.OutcomeConsumers),
            "Consumers that may call ReportOutcome (close, reject cases); needs api_keys_env or tls.client_ca.", "[xuhui]");
        yield return grpc.Key("delivery.grpc.allow_unauthenticated", Bool, g => g.AllowUnauthenticated,
            "Listen beyond loopback (service.bind_address) without keys or certificates: anyone reaching the port may call.", "true");
        yield return grpc.Key("delivery.grpc.max_subscribers", Int, g => g.Subscribers.Total,
            "Subscribe streams open at once, all consumers together; one more is refused with RESOURCE_EXHAUSTED.", "2000", min: 1, max: 100_000);
        yield return grpc.Key("delivery.grpc.max_subscribers_per_consumer", Int, g => g.Subscribers.PerConsumer,
            "Subscribe streams open at once per consumer name (unnamed ones count as one consumer); one more is refused with RESOURCE_EXHAUSTED.",
            "4", min: 1, max: 100_000);

        yield return Container(M, "delivery.push", Mapping, "Stream cases to the district's DispatchIntake endpoint.");
        var push = new KeysOf<DispatchPushOptions>(M, new() { Endpoint = PushSection.NoEndpoint }, c => c.Delivery.Push ?? new() { Endpoint = PushSection.NoEndpoint });
        yield return push.Key("delivery.push.endpoint", Text, p => p.Endpoint, "http:// or https:// address of the dispatch intake.", "https://dispatch2.example:8443", required: true);
        yield return push.Key("delivery.push.consumer", Text, p => p.Consumer, "The outbox cursor's name.", "dispatch-2");
        yield return push.Key("delivery.push.api_key_env", EnvName, p => p.ApiKeyEnv, "NAME of the environment variable with the API key.", SampleSecretEnv);
        yield return push.Key("delivery.push.ca_file", ConfigKeyKind.File, p => p.CaFile, "PEM CA(s) that signed dispatch's certificate; default: system trust.", SampleFile);
        yield return push.Key("delivery.push.client_cert", ConfigKeyKind.File, p => p.ClientCert, "PEM client certificate for mutual TLS (with client_key).", SampleFile);
        yield return push.Key("delivery.push.client_key", ConfigKeyKind.File, p => p.ClientKey, "PEM client key (with client_cert).", SampleFile);
        yield return push.Key("delivery.push.include_evidence", Bool, p => p.IncludeEvidence, "Each case carries its evidence JPEG.", "false");
        yield return push.Key("delivery.push.max_backoff", Duration, p => p.MaxBackoff, "The longest wait between calls after failures.", "40s", min: 0, minExclusive: true);
        yield return push.Key("delivery.push.min_backoff", Duration, p => p.MinBackoff, "The first wait after a failure; not above max_backoff.", "1s", min: 0, minExclusive: true);
        yield return push.Key("delivery.push.window", Int, p => p.Window, "Events in flight without a receipt.", "32", min: 1, max: 10_000);
        yield return push.Key("delivery.push.receipt_timeout", Duration, p => p.ReceiptTimeout, "An event this long without a receipt ends the call.", "90s", min: 0, minExclusive: true);
        yield return push.Key("delivery.push.connect_timeout", Duration, p => p.ConnectTimeout, "How long TCP and TLS set-up may take.", "20s", min: 0, minExclusive: true);
    }

    /// <summary>Sample of a File key: the registry test writes a file by this name beside the config.</summary>
    private const string SampleFile = "sample.pem";

    /// <summary>Sample of an EnvName key: the registry test sets this environment variable.</summary>
    private const string SampleSecretEnv = "CITYSIGHT_SAMPLE_SECRET";
}
