using System.Globalization;
using System.Text.Json;
using CitySight.Cases.Sqlite;
using CitySight.Delivery.Mqtt;
using CitySight.Tests;
using MQTTnet.Protocol;
using Prometheus;
using Xunit.Abstractions;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Delivery.Tests.Mqtt;

/// <summary>
/// The MQTT publisher over TLS against a real mosquitto, with real certificates made here (tests/Shared/TestCertificates):
/// the broker's certificate checked against delivery.mqtt.tls.ca_file, refused from an unknown CA unless allow_untrusted,
/// and client certificates for a broker that requires them. The test's own subscriber uses the broker's plain listener,
/// so every case it sees went in through the TLS one.
/// </summary>
public sealed class MqttTlsTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly TestCertificates _certs;
    private readonly BrokerTls _brokerTls;

    public MqttTlsTests(ITestOutputHelper output)
    {
        _output = output;
        _certs = new TestCertificates(Path.Combine(TestAssets.TempDir("mqtt-tls"), "certs"));
        var (cert, key) = _certs.WritePem(_certs.Issue("localhost", server: true), "broker");
        _brokerTls = new BrokerTls(_certs.CaFile, cert, key);
    }

    public void Dispose() => _certs.Dispose();

    private static MqttOptions Options(MqttBroker broker, MqttTlsOptions tls) => new()
    {
        Host = "localhost",   // the name in the broker's certificate
        Port = broker.TlsPort,
        ClientId = "tls-" + Guid.NewGuid().ToString("N")[..8],
        TopicPrefix = "city/test",
        Tls = tls,
        MinBackoff = TimeSpan.FromMilliseconds(50),
        MaxBackoff = TimeSpan.FromMilliseconds(400),
        KeepAlive = TimeSpan.FromSeconds(5),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public async Task Tls_a_broker_certificate_from_the_configured_ca_connects_and_cases_arrive_qos1_with_the_cursor_acked()
    {
        using var broker = new MqttBroker(tls: _brokerTls);
        using var store = new SqliteCaseStore(TestAssets.TempDir("mqtt-tls-cases"));
        var ids = new List<string>();
        for (var i = 1; i <= 3; i++) ids.Add((await store.OpenAsync(Case(i))).Id);   // before start: replayed
        await using var sub = await MqttCollector.ConnectAsync(broker.Port, "city/test/cases/#");
        var options = Options(broker, new MqttTlsOptions { Enabled = true, CaFile = _certs.CaFile });
        Assert.StartsWith($"mqtts://localhost:{broker.TlsPort} ", options.ToString());
        var log = new CapturingLogger<MqttCasePublisher>();
        using var publisher = new MqttCasePublisher(options, store, log);
        await publisher.StartAsync(CancellationToken.None);
        try
        {
            ids.Add((await store.OpenAsync(Case(4, "street_stall"))).Id);   // live
            var got = await sub.WaitForAsync(m => m.Count >= 4, "4 cases over TLS");
            await Wait.UntilAsync(() => publisher.AckedSequence == 4, "cursor 4");
            Assert.Equal(4, await store.CursorAsync(options.ConsumerName));
            Assert.True(publisher.IsConnected);
            Assert.Null(publisher.LastError);
            Assert.Equal(0, publisher.FailedConnects);
            Assert.Equal(4, publisher.Published);
            Assert.All(got, m => Assert.Equal(MqttQualityOfServiceLevel.AtLeastOnce, m.QoS));
            Assert.Equal(ids, got.Select(m => Id(m.Payload)));
            Assert.Equal(Enumerable.Range(1, 4).Select(n => (long)n), got.Select(m => Sequence(m.Payload)));
        }
        finally
        {
            await publisher.StopAsync(CancellationToken.None);
            Dump(log, broker);
        }
        Assert.Contains(log.Lines, l => l.Contains("MQTT: connected to mqtts://localhost:", StringComparison.Ordinal));

        // The fixture really is TLS: plain MQTT to the same port gets no CONNACK.
        var plainOptions = Options(broker, new MqttTlsOptions());
        using var plain = new MqttCasePublisher(new MqttOptions
        {
            Host = "127.0.0.1", Port = broker.TlsPort, ClientId = plainOptions.ClientId, TopicPrefix = "city/test",
            MinBackoff = plainOptions.MinBackoff, MaxBackoff = plainOptions.MaxBackoff, ConnectTimeout = TimeSpan.FromSeconds(2),
        }, store, new CapturingLogger<MqttCasePublisher>());
        await plain.StartAsync(CancellationToken.None);
        await Wait.UntilAsync(() => plain.FailedConnects >= 1, "a refused plain connection to the TLS port");
        Assert.False(plain.IsConnected);
        await plain.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Tls_a_broker_certificate_the_publisher_does_not_trust_is_refused_and_reported_unless_allow_untrusted()
    {
        using var broker = new MqttBroker(tls: _brokerTls);
        using var store = new SqliteCaseStore(TestAssets.TempDir("mqtt-tls-untrusted"));
        var id = (await store.OpenAsync(Case(1))).Id;
        var otherCa = _certs.Authority("Some other CA");
        var otherCaFile = Path.Combine(_certs.Folder, "other-ca.crt");
        await File.WriteAllTextAsync(otherCaFile, otherCa.ExportCertificatePem());

        // The system trust store (no ca_file) does not know the test CA; another CA's file does not either.
        foreach (var (what, tls) in new[]
                 {
                     ("system trust", new MqttTlsOptions { Enabled = true }),
                     ("another CA", new MqttTlsOptions { Enabled = true, CaFile = otherCaFile }),
                 })
        {
            var options = Options(broker, tls);
            var log = new CapturingLogger<MqttCasePublisher>();
            using var publisher = new MqttCasePublisher(options, store, log);
            await publisher.StartAsync(CancellationToken.None);
            try
            {
                await Wait.UntilAsync(() => publisher.FailedConnects >= 3, $"3 refused connection attempts ({what})");
                Assert.False(publisher.IsConnected);
                Assert.NotNull(publisher.LastError);
                Assert.Equal(0, publisher.Published);
                Assert.Equal(0, await store.CursorAsync(options.ConsumerName));
                Assert.True(await ConnectFailuresMetricAsync(options.ClientId) >= 3, "citysight_mqtt_connect_failures_total counts them");
                // Refused for the broker's certificate, not for anything else on the way.
                Assert.Contains("remote certificate", publisher.LastError, StringComparison.OrdinalIgnoreCase);
                _output.WriteLine($"{what}: LastError = {publisher.LastError}");
            }
            finally
            {
                await publisher.StopAsync(CancellationToken.None);
            }
            Assert.Contains(log.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("cannot connect", StringComparison.Ordinal));
            Assert.DoesNotContain(log.Lines, l => l.Contains("MQTT: connected", StringComparison.Ordinal));
        }

        // allow_untrusted (test benches): the same broker, no CA at all, and the case goes through.
        await using var sub = await MqttCollector.ConnectAsync(broker.Port, "city/test/cases/#");
        var anyOptions = Options(broker, new MqttTlsOptions { Enabled = true, AllowUntrusted = true });
        using var any = new MqttCasePublisher(anyOptions, store, new CapturingLogger<MqttCasePublisher>());
        await any.StartAsync(CancellationToken.None);
        try
        {
            var got = await sub.WaitForAsync(m => m.Count >= 1, "the case with allow_untrusted");
            Assert.Equal(id, Id(got[0].Payload));
            await Wait.UntilAsync(() => any.AckedSequence == 1, "cursor 1");
            Assert.True(any.IsConnected);
            Assert.Equal(0, any.FailedConnects);
        }
        finally
        {
            await any.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Tls_a_broker_requiring_client_certificates_takes_one_signed_by_its_ca_and_no_other()
    {
        const string identity = "citysight-xuhui";
        var (clientCert, clientKey) = _certs.WritePem(_certs.Issue(identity, server: false), "client");
        var stranger = _certs.Authority("Some other CA");
        var (strangerCert, strangerKey) = _certs.WritePem(_certs.Issue(identity, server: false, issuer: stranger), "stranger");
        // use_identity_as_username: the certificate's CN is the user, and only that user may publish under city/test.
        const string acl = "topic read city/test/#\n\nuser " + identity + "\ntopic readwrite city/test/#\n";
        using var broker = new MqttBroker(tls: _brokerTls with { RequireCertificate = true }, acl: acl);
        using var store = new SqliteCaseStore(TestAssets.TempDir("mqtt-tls-client-cert"));
        var ids = new List<string>();
        for (var i = 1; i <= 2; i++) ids.Add((await store.OpenAsync(Case(i))).Id);

        // Without a certificate, or with one from another CA (same CN), the broker will not have it.
        foreach (var (what, tls) in new[]
                 {
                     ("no client certificate", new MqttTlsOptions { Enabled = true, CaFile = _certs.CaFile }),
                     ("a certificate from another CA", new MqttTlsOptions { Enabled = true, CaFile = _certs.CaFile, ClientCert = strangerCert, ClientKey = strangerKey }),
                 })
        {
            var options = Options(broker, tls);
            using var publisher = new MqttCasePublisher(options, store, new CapturingLogger<MqttCasePublisher>());
            await publisher.StartAsync(CancellationToken.None);
            try
            {
                await Wait.UntilAsync(() => publisher.FailedConnects >= 2, $"2 refused connection attempts ({what})");
                Assert.False(publisher.IsConnected);
                Assert.NotNull(publisher.LastError);
                Assert.Equal(0, publisher.Published);
                Assert.Equal(0, await store.CursorAsync(options.ConsumerName));
                _output.WriteLine($"{what}: LastError = {publisher.LastError}");
            }
            finally
            {
                await publisher.StopAsync(CancellationToken.None);
            }
        }

        await using var sub = await MqttCollector.ConnectAsync(broker.Port, "city/test/cases/#");
        var goodOptions = Options(broker, new MqttTlsOptions { Enabled = true, CaFile = _certs.CaFile, ClientCert = clientCert, ClientKey = clientKey });
        var log = new CapturingLogger<MqttCasePublisher>();
        using var good = new MqttCasePublisher(goodOptions, store, log);
        await good.StartAsync(CancellationToken.None);
        try
        {
            ids.Add((await store.OpenAsync(Case(3))).Id);
            var got = await sub.WaitForAsync(m => m.Count >= 3, "3 cases from the certified publisher");
            await Wait.UntilAsync(() => good.AckedSequence == 3, "cursor 3");
            Assert.Equal(3, await store.CursorAsync(goodOptions.ConsumerName));
            Assert.Equal(ids, got.Select(m => Id(m.Payload)));
            Assert.All(got, m => Assert.Equal(MqttQualityOfServiceLevel.AtLeastOnce, m.QoS));
            Assert.True(good.IsConnected);
        }
        finally
        {
            await good.StopAsync(CancellationToken.None);
            Dump(log, broker);
        }
    }

    private static string Id(string payload)
    {
        using var doc = JsonDocument.Parse(payload);
        return doc.RootElement.GetProperty("id").GetString()!;
    }

    private static long Sequence(string payload)
    {
        using var doc = JsonDocument.Parse(payload);
        return doc.RootElement.GetProperty("sequence").GetInt64();
    }

    /// <summary>citysight_mqtt_connect_failures_total for one client id, read the way Prometheus scrapes it.</summary>
    private static async Task<double> ConnectFailuresMetricAsync(string clientId)
    {
        using var scrape = new MemoryStream();
        await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(scrape);
        var prefix = $"citysight_mqtt_connect_failures_total{{client_id=\"{clientId}\"}} ";
        var line = System.Text.Encoding.UTF8.GetString(scrape.ToArray()).Split('\n').SingleOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[prefix.Length..], CultureInfo.InvariantCulture);
    }

    private void Dump(CapturingLogger<MqttCasePublisher> log, MqttBroker broker)
    {
        foreach (var l in log.Lines) _output.WriteLine(l);
        if (broker.Errors.Length > 0) _output.WriteLine("mosquitto: " + broker.Errors);
    }
}
