namespace CitySight.Configuration.Tests;

public class MqttConfigTests
{
    [Fact]
    public void No_delivery_section_means_no_mqtt()
    {
        var result = new TestConfig("").Load();
        Assert.True(result.Success, TestConfig.AllErrors(result));
        Assert.Null(result.Config!.Delivery.Mqtt);
    }

    [Fact]
    public void A_full_mqtt_section_is_read_with_tls_paths_resolved()
    {
        var env = "CITYSIGHT_TEST_MQTT_PW_" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        Environment.SetEnvironmentVariable(env, "not-in-config");
        var cfg = new TestConfig();
        File.WriteAllText(Path.Combine(cfg.Dir, "ca.pem"), "x");
        File.WriteAllText(cfg.MainPath, $"delivery:\n  mqtt:\n    host: broker.city.local\n    client_id: cs-01\n    topic_prefix: xuhui/citysight\n"
            + $"    username: citysight\n    password_env: {env}\n    keep_alive: 20s\n    tls:\n      enabled: true\n      ca_file: ca.pem\n");
        var result = cfg.Load();
        Assert.True(result.Success, TestConfig.AllErrors(result));
        var m = result.Config!.Delivery.Mqtt!;
        Assert.Equal("broker.city.local", m.Host);
        Assert.Equal(8883, m.EffectivePort);
        Assert.Equal("cs-01", m.ClientId);
        Assert.Equal("xuhui/citysight", m.TopicPrefix);
        Assert.Equal(env, m.PasswordEnv);
        Assert.Equal(TimeSpan.FromSeconds(20), m.KeepAlive);
        Assert.Equal(Path.Combine(cfg.Dir, "ca.pem"), m.Tls.CaFile);
        Assert.DoesNotContain("not-in-config", m.ToString());
    }

    [Fact]
    public void Defaults_are_port_1883_and_the_citysight_prefix()
    {
        var result = new TestConfig("delivery:\n  mqtt:\n    host: 127.0.0.1\n").Load();
        Assert.True(result.Success, TestConfig.AllErrors(result));
        Assert.Equal(1883, result.Config!.Delivery.Mqtt!.EffectivePort);
        Assert.Equal("citysight/v1", result.Config.Delivery.Mqtt.TopicPrefix);
        Assert.StartsWith("citysight-", result.Config.Delivery.Mqtt.ClientId);
    }

    [Fact]
    public void An_unset_password_variable_is_named_with_file_and_line()
    {
        var yaml = "delivery:\n  mqtt:\n    host: b\n    username: u\n    password_env: CITYSIGHT_SURELY_UNSET_VAR #<\n";
        var cfg = new TestConfig(yaml);
        var e = TestConfig.Single(cfg.Load(), "delivery.mqtt.password_env");
        Assert.Equal(cfg.MainPath, e.File);
        Assert.Equal(TestConfig.LineOf(yaml, "#<"), e.Line);
        Assert.Contains("CITYSIGHT_SURELY_UNSET_VAR is not set", e.Message);
    }

    [Fact]
    public void A_password_pasted_into_password_env_is_refused_without_echoing_it()
    {
        var yaml = "delivery:\n  mqtt:\n    host: b\n    username: u\n    password_env: \"p@ss w0rd!\" #<\n";
        var e = TestConfig.Single(new TestConfig(yaml).Load(), "delivery.mqtt.password_env");
        Assert.DoesNotContain("p@ss w0rd!", e.ToString());
    }

    [Fact]
    public void Unknown_keys_missing_host_bad_prefix_and_missing_files_are_errors()
    {
        var yaml = "delivery:\n  mqtt:\n    port: 70000 #<port\n    topic_prefix: a/#/b #<prefix\n    pasword_env: X #<typo\n    tls:\n      ca_file: nope.pem #<ca\n";
        var cfg = new TestConfig(yaml);
        var result = cfg.Load();
        Assert.Equal(TestConfig.LineOf(yaml, "#<port"), TestConfig.Single(result, "delivery.mqtt.port").Line);
        Assert.Equal(TestConfig.LineOf(yaml, "#<prefix"), TestConfig.Single(result, "delivery.mqtt.topic_prefix").Line);
        var typo = TestConfig.Single(result, "delivery.mqtt.pasword_env");
        Assert.Equal(TestConfig.LineOf(yaml, "#<typo"), typo.Line);
        Assert.Contains("did you mean 'password_env'", typo.Message);
        Assert.Equal(TestConfig.LineOf(yaml, "#<ca"), TestConfig.Single(result, "delivery.mqtt.tls.ca_file").Line);
        TestConfig.Single(result, "delivery.mqtt.host");
    }
}
