using CitySight.Tests;

namespace CitySight.Configuration.Tests;

/// <summary>service.bind_address and delivery.grpc's authorisation keys; the production example loads as shipped.</summary>
public class SecurityConfigTests
{
    [Fact]
    public void Production_example_loads_with_tls_api_keys_and_every_interface()
    {
        // Copied with placeholder certificate files beside it, as installed under /etc/citysight/.
        var dir = InstalledExamples.Copy("production-example");
        Environment.SetEnvironmentVariable("CITYSIGHT_API_KEYS", "xuhui-dispatch=xd-0123456789abcdef,ops=ops-0123456789abcdef");

        var r = ConfigLoader.Load(Path.Combine(dir, "production.yaml"));
        Assert.True(r.Success, TestConfig.AllErrors(r));
        var c = r.Config!;
        Assert.Equal("0.0.0.0", c.Service.BindAddress);
        var g = c.Delivery.Grpc;
        Assert.Equal(Path.Combine(dir, "tls", "citysight.crt"), g.TlsCert);
        Assert.Equal(Path.Combine(dir, "tls", "citysight.key"), g.TlsKey);
        Assert.Equal("CITYSIGHT_API_KEYS", g.ApiKeysEnv);
        Assert.True(g.Authenticates);
        Assert.False(g.AllowUnauthenticated);
        Assert.Equal(["xuhui-dispatch"], g.OutcomeConsumers);
        Assert.Equal(["ops"], g.AdminConsumers);
        Assert.Equal("tianlin-001", Assert.Single(c.Cameras).Id);
    }

    [Fact]
    public void Bind_address_defaults_to_loopback_and_takes_ip_addresses_only()
    {
        Assert.Equal("127.0.0.1", Assert.IsType<CitySightConfig>(new TestConfig("service: {grpc_port: 50052}\n").Load().Config).Service.BindAddress);
        Assert.Equal("::1", new TestConfig("service: {bind_address: \"::1\"}\n").Load().Config!.Service.BindAddress);

        var yaml = "service:\n  bind_address: citysight.example   # <\n";
        var cfg = new TestConfig(yaml);
        var e = Assert.Single(cfg.Load().Errors);
        Assert.Equal((TestConfig.LineOf(yaml, "# <"), "service.bind_address"), (e.Line, e.Field));
        Assert.Contains("not an IP address", e.Message);
        Assert.Contains("127.0.0.1", e.Message);
    }

    [Fact]
    public void Every_interface_without_keys_or_client_certificates_is_an_error_at_the_key_unless_accepted()
    {
        var yaml = "service:\n  bind_address: 0.0.0.0   # <\n";
        var e = Assert.Single(new TestConfig(yaml).Load().Errors);
        Assert.Equal((TestConfig.LineOf(yaml, "# <"), "service.bind_address"), (e.Line, e.Field));
        Assert.Contains("delivery.grpc.api_keys_env", e.Message);
        Assert.Contains("delivery.grpc.tls.client_ca", e.Message);
        Assert.Contains("allow_unauthenticated", e.Message);

        Assert.True(new TestConfig(yaml + "delivery: {grpc: {allow_unauthenticated: true}}\n").Load().Success);
        Environment.SetEnvironmentVariable("CITYSIGHT_TEST_BIND_KEYS", "xuhui=xh-0123456789abcdef");
        Assert.True(new TestConfig(yaml + "delivery: {grpc: {api_keys_env: CITYSIGHT_TEST_BIND_KEYS}}\n").Load().Success);
    }

    [Theory]
    [InlineData("outcome_consumers")]
    [InlineData("admin_consumers")]
    public void A_list_of_who_may_act_without_keys_or_client_certificates_is_an_error_naming_both(string key)
    {
        var yaml = $"delivery:\n  grpc:\n    {key}: [xuhui]   # <\n";
        var e = Assert.Single(new TestConfig(yaml).Load().Errors);
        Assert.Equal((TestConfig.LineOf(yaml, "# <"), $"delivery.grpc.{key}"), (e.Line, e.Field));
        Assert.Contains("api_keys_env", e.Message);
        Assert.Contains("tls.client_ca", e.Message);
    }
}
