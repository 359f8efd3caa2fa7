using System.Text.RegularExpressions;
using CitySight.Delivery.Mqtt;

namespace CitySight.Configuration;

/// <summary>delivery.mqtt: the broker cases and camera states are published to; null when not configured.</summary>
internal static partial class MqttSection
{
    /// <summary>MQTT client ids and topic levels: printable, no wildcards, no NUL.</summary>
    [GeneratedRegex("^[A-Za-z0-9._-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex MqttClientIdPattern();

    public static MqttOptions? Read(Section delivery)
    {
        if (!delivery.Has("mqtt")) return null;
        if (delivery.Child("mqtt") is not { } m) return null;
        var src = m.Src;

        var host = m.Text("host", required: true);
        if (host is { Length: 0 }) src.Error(m.Value("host")!.Start, m.Field("host"), "must not be empty");

        var clientId = m.Text("client_id");
        if (clientId is not null && (clientId.Length is 0 or > 64 || !MqttClientIdPattern().IsMatch(clientId)))
            src.Error(m.Value("client_id")!.Start, m.Field("client_id"),
                $"'{YamlSource.Shorten(clientId)}' is not a usable client id: 1 to 64 of letters, digits, '.', '_', '-'");

        var prefix = m.Text("topic_prefix");
        if (prefix is not null && (prefix.Length == 0 || prefix.StartsWith('/') || prefix.EndsWith('/') ||
                                   prefix.IndexOfAny(['+', '#', '\0']) >= 0 || prefix.Contains("//", StringComparison.Ordinal)))
            src.Error(m.Value("topic_prefix")!.Start, m.Field("topic_prefix"),
                $"'{YamlSource.Shorten(prefix)}' is not a topic prefix: levels separated by '/', no leading or trailing '/', no '+' or '#'");

        var username = m.Text("username");
        var passwordEnv = m.Text("password_env");
        if (passwordEnv is not null)
        {
            if (!SectionReaders.EnvNamePattern().IsMatch(passwordEnv))
                // Someone may have pasted the password itself here: never echo it back.
                src.Error(m.Value("password_env")!.Start, m.Field("password_env"),
                    "must be the NAME of an environment variable holding the password (letters, digits, '_'), not the password");
            else if (Environment.GetEnvironmentVariable(passwordEnv) is null)
                src.Error(m.Value("password_env")!.Start, m.Field("password_env"), $"environment variable {passwordEnv} is not set");
            else if (username is null)
                src.Error(m.KeyMark("password_env"), m.Field("username"), "is required when password_env is set");
        }

        var tls = new MqttTlsOptions();
        if (m.Has("tls") && m.Child("tls") is { } t)
        {
            tls = new MqttTlsOptions
            {
                // Writing a tls section turns TLS on unless it says otherwise.
                Enabled = t.Bool("enabled") ?? true,
                CaFile = t.ExistingFile("ca_file"),
                ClientCert = t.ExistingFile("client_cert"),
                ClientKey = t.ExistingFile("client_key"),
                AllowUntrusted = t.Bool("allow_untrusted") ?? tls.AllowUntrusted,
            };
            t.BothOrNeither("client_cert", "client_key");
        }

        var keepAlive = m.Duration("keep_alive");
        var maxKeepAlive = TimeSpan.FromSeconds(m.Key("keep_alive").Max!.Value);
        if (keepAlive > maxKeepAlive)
            src.Error(m.Value("keep_alive")!.Start, m.Field("keep_alive"), $"must be at most {maxKeepAlive.TotalSeconds:0}s ({Durations.Format(maxKeepAlive)})");

        var port = m.Int("port");
        if (host is not { Length: > 0 }) return null;
        var mqtt = new MqttOptions { Host = host };
        return mqtt with
        {
            // Unset: the options' own default, 1883 or 8883 with TLS (see EffectivePort).
            Port = port ?? mqtt.Port,
            ClientId = clientId ?? mqtt.ClientId,
            TopicPrefix = prefix ?? mqtt.TopicPrefix,
            Username = username,
            PasswordEnv = passwordEnv,
            Tls = tls,
            KeepAlive = keepAlive ?? mqtt.KeepAlive,
        };
    }
}
