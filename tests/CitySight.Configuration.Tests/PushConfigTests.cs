namespace CitySight.Configuration.Tests;

public class PushConfigTests
{
    [Fact]
    public void No_push_section_means_no_push_client()
    {
        var result = new TestConfig("delivery:\n  grpc: {}\n").Load();
        Assert.True(result.Success, TestConfig.AllErrors(result));
        Assert.Null(result.Config!.Delivery.Push);
    }

    [Fact]
    public void A_full_push_section_is_read_with_paths_resolved_and_the_key_named_not_held()
    {
        var env = "CITYSIGHT_TEST_PUSH_KEY_" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        Environment.SetEnvironmentVariable(env, "push-secret-not-in-config");
        var cfg = new TestConfig();
        foreach (var f in new[] { "ca.pem", "cs.pem", "cs.key" }) File.WriteAllText(Path.Combine(cfg.Dir, f), "x");
        File.WriteAllText(cfg.MainPath, "delivery:\n  push:\n    endpoint: https://dispatch.xuhui.local:8443\n    consumer: xuhui-dispatch\n"
            + $"    api_key_env: {env}\n    ca_file: ca.pem\n    client_cert: cs.pem\n    client_key: cs.key\n    include_evidence: false\n"
            + "    max_backoff: 2m\n    min_backoff: 2s\n    window: 16\n    receipt_timeout: 90s\n    connect_timeout: 3s\n");
        var result = cfg.Load();
        Assert.True(result.Success, TestConfig.AllErrors(result));
        var p = result.Config!.Delivery.Push!;
        Assert.Equal(new Uri("https://dispatch.xuhui.local:8443"), p.Endpoint);
        Assert.Equal("xuhui-dispatch", p.Consumer);
        Assert.Equal(env, p.ApiKeyEnv);
        Assert.Equal(Path.Combine(cfg.Dir, "ca.pem"), p.CaFile);
        Assert.Equal(Path.Combine(cfg.Dir, "cs.pem"), p.ClientCert);
        Assert.Equal(Path.Combine(cfg.Dir, "cs.key"), p.ClientKey);
        Assert.False(p.IncludeEvidence);
        Assert.Equal(TimeSpan.FromMinutes(2), p.MaxBackoff);
        Assert.Equal(TimeSpan.FromSeconds(2), p.MinBackoff);
        Assert.Equal(16, p.Window);
        Assert.Equal(TimeSpan.FromSeconds(90), p.ReceiptTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), p.ConnectTimeout);
        Assert.DoesNotContain("push-secret-not-in-config", p.ToString());
    }

    [Fact]
    public void Defaults_are_the_documented_ones()
    {
        var result = new TestConfig("delivery:\n  push:\n    endpoint: http://127.0.0.1:9000\n").Load();
        Assert.True(result.Success, TestConfig.AllErrors(result));
        var p = result.Config!.Delivery.Push!;
        Assert.Equal("dispatch-push", p.Consumer);
        Assert.True(p.IncludeEvidence);
        Assert.Equal((TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500), 64, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(10)),
            (p.MaxBackoff, p.MinBackoff, p.Window, p.ReceiptTimeout, p.ConnectTimeout));
    }

    [Fact]
    public void Each_bad_value_is_named_with_its_line()
    {
        var yaml = "delivery:\n  push:\n    endpoint: http://127.0.0.1:9000\n    window: 0 #<window\n    receipt_timeout: 0s #<receipt\n"
                   + "    min_backoff: 1m #<min\n    max_backoff: 10s\n    conect_timeout: 5s #<typo\n";
        var result = new TestConfig(yaml).Load();
        Assert.False(result.Success);
        Assert.Equal(TestConfig.LineOf(yaml, "#<window"), TestConfig.Single(result, "delivery.push.window").Line);
        Assert.Equal(TestConfig.LineOf(yaml, "#<receipt"), TestConfig.Single(result, "delivery.push.receipt_timeout").Line);
        var min = TestConfig.Single(result, "delivery.push.min_backoff");
        Assert.Equal(TestConfig.LineOf(yaml, "#<min"), min.Line);
        Assert.Contains("must not exceed max_backoff", min.Message);
        Assert.Contains(result.Errors, e => e.Line == TestConfig.LineOf(yaml, "#<typo") && e.ToString().Contains("conect_timeout"));
    }

    [Fact]
    public void An_endpoint_with_credentials_is_refused_without_echoing_them()
    {
        var yaml = "delivery:\n  push:\n    endpoint: https://admin:hunter2@dispatch.local #<\n";
        var e = TestConfig.Single(new TestConfig(yaml).Load(), "delivery.push.endpoint");
        Assert.Equal(TestConfig.LineOf(yaml, "#<"), e.Line);
        Assert.DoesNotContain("hunter2", e.ToString());
    }
}
