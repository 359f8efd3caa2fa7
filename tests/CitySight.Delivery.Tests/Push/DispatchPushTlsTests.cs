using CitySight.Cases.Sqlite;
using CitySight.Delivery.Push;
using CitySight.Tests;
using Xunit.Abstractions;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Delivery.Tests.Push;

/// <summary>
/// Push mode over TLS: the real <see cref="DispatchPushClient"/> against a real Kestrel serving HTTP/2 over TLS at
/// https://localhost:PORT with a certificate from a test CA (tests/Shared/TestCertificates), with and without a demand
/// for client certificates; delivery.push.ca_file, client_cert and client_key as PEM files.
/// </summary>
public sealed class DispatchPushTlsTests : IDisposable
{
    private const string Consumer = "dispatch-push";
    private readonly ITestOutputHelper _output;
    private readonly TestCertificates _certs;

    public DispatchPushTlsTests(ITestOutputHelper output)
    {
        _output = output;
        _certs = new TestCertificates(Path.Combine(TestAssets.TempDir("push-tls"), "certs"));
    }

    public void Dispose() => _certs.Dispose();

    private static DispatchPushOptions Options(Uri endpoint, string? caFile, (string Cert, string Key)? client = null) => new()
    {
        Endpoint = endpoint,
        Consumer = Consumer,
        CaFile = caFile,
        ClientCert = client?.Cert,
        ClientKey = client?.Key,
        MinBackoff = TimeSpan.FromMilliseconds(50),
        MaxBackoff = TimeSpan.FromMilliseconds(400),
        ConnectTimeout = TimeSpan.FromSeconds(2),
    };

    [Fact]
    public async Task Tls_push_with_the_dispatch_ca_delivers_every_case_and_the_cursor_reaches_the_head()
    {
        using var store = new SqliteCaseStore(TestAssets.TempDir("push-tls-deliver"));
        var log = new DispatchLog();
        await using var server = await DispatchServer.StartAsync(log, tls: new DispatchTls(_certs.Issue("localhost", server: true)));
        Assert.Equal($"https://localhost:{server.Port}/", server.Address.ToString());
        var ids = new List<string>();
        for (var i = 1; i <= 3; i++) ids.Add((await store.OpenAsync(Case(i))).Id);   // in the outbox before start
        var logger = new CapturingLogger<DispatchPushClient>();
        var client = new DispatchPushClient(Options(server.Address, _certs.CaFile), store, logger);
        await client.StartAsync(CancellationToken.None);
        try
        {
            for (var i = 4; i <= 6; i++) ids.Add((await store.OpenAsync(Case(i, "street_stall"))).Id);   // live
            await Wait.UntilAsync(() => client.AckedSequence == 6, "cursor 6 (the head)");
            Assert.Equal(6, await store.CursorAsync(Consumer));
            Assert.Equal(store.LastSequence, client.AckedSequence);
            Assert.True(client.IsConnected);
            Assert.Null(client.LastError);
            Assert.Equal(0, client.FailedAttempts);
        }
        finally
        {
            await PushClients.StopAsync(client);
            foreach (var l in logger.Lines) _output.WriteLine(l);
        }
        Assert.Equal(ids, log.Taken.Select(t => t.CaseId));
        Assert.Equal(Enumerable.Range(1, 6).Select(n => (long)n), log.Taken.Select(t => t.Sequence));
        Assert.Equal(6, client.Delivered);
        Assert.NotEmpty(log.TlsSessions);   // it came over TLS, and without a client certificate
        Assert.All(log.TlsSessions, Assert.Null);
        Assert.Contains(logger.Lines, l => l.Contains($"Push: delivering to https://localhost:{server.Port}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tls_push_to_a_dispatch_requiring_client_certificates_delivers_with_one_and_backs_off_without()
    {
        const string identity = "citysight-xuhui";
        var clientPem = _certs.WritePem(_certs.Issue(identity, server: false), "client");
        using var store = new SqliteCaseStore(TestAssets.TempDir("push-tls-client-cert"));
        var log = new DispatchLog();
        await using var server = await DispatchServer.StartAsync(log, tls: new DispatchTls(_certs.Issue("localhost", server: true), ClientCa: _certs.Ca));
        var ids = new List<string>();
        for (var i = 1; i <= 3; i++) ids.Add((await store.OpenAsync(Case(i))).Id);

        // No client certificate: the handshake fails every time, the client keeps calling again with growing waits.
        var anonLogger = new CapturingLogger<DispatchPushClient>();
        var anon = new DispatchPushClient(Options(server.Address, _certs.CaFile), store, anonLogger);
        await anon.StartAsync(CancellationToken.None);
        IReadOnlyList<DateTime> attempts;
        try
        {
            await Wait.UntilAsync(() => anon.FailedAttempts >= 4 && log.Connections.Count >= 4, "4 failed attempts without a client certificate");
            Assert.False(anon.IsConnected);
            Assert.NotNull(anon.LastError);
            Assert.Equal(0, anon.Delivered);
            Assert.Equal(0, anon.AckedSequence);
            Assert.Equal(0, await store.CursorAsync(Consumer));
            attempts = log.Connections;
            _output.WriteLine($"without a client certificate: {anon.FailedAttempts} failed attempt(s), {anon.Calls} call(s); LastError = {anon.LastError}");
        }
        finally
        {
            await PushClients.StopAsync(anon);
        }
        Assert.Empty(log.TlsSessions);   // not one handshake completed
        Assert.Empty(log.Calls);
        Assert.Empty(log.Taken);
        Assert.Contains(anonLogger.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("Push: cannot deliver", StringComparison.Ordinal));
        // Backoff 50 ms → 100 → 200 (±20%): the wait before the 4th attempt is at least 160 ms, beyond any first wait
        // (60 ms at most). Only lower bounds: a loaded machine makes waits longer, never shorter.
        var gaps = attempts.Zip(attempts.Skip(1), (a, b) => b - a).ToList();
        _output.WriteLine("gaps between attempts: " + string.Join(", ", gaps.Select(g => $"{g.TotalMilliseconds:0} ms")));
        Assert.True(gaps[2] >= TimeSpan.FromMilliseconds(150), $"gap before the 4th attempt was {gaps[2].TotalMilliseconds:0} ms");

        // With the certificate the CA signed: dispatch sees its CN, and every case goes through.
        var logger = new CapturingLogger<DispatchPushClient>();
        var client = new DispatchPushClient(Options(server.Address, _certs.CaFile, clientPem), store, logger);
        await client.StartAsync(CancellationToken.None);
        try
        {
            ids.Add((await store.OpenAsync(Case(4))).Id);
            await Wait.UntilAsync(() => client.AckedSequence == 4, "cursor 4 with a client certificate");
            Assert.Equal(4, await store.CursorAsync(Consumer));
            Assert.True(client.IsConnected);
            Assert.Equal(0, client.FailedAttempts);
        }
        finally
        {
            await PushClients.StopAsync(client);
            foreach (var l in logger.Lines) _output.WriteLine(l);
        }
        Assert.Equal(ids, log.Taken.Select(t => t.CaseId));
        Assert.NotEmpty(log.Calls);
        Assert.All(log.Calls, c => Assert.Equal(identity, c.ClientName));
        Assert.All(log.TlsSessions, n => Assert.Equal(identity, n));
    }

    [Fact]
    public async Task Tls_push_refuses_a_dispatch_certificate_from_a_ca_it_was_not_given()
    {
        using var store = new SqliteCaseStore(TestAssets.TempDir("push-tls-wrong-ca"));
        await store.OpenAsync(Case(1));
        var log = new DispatchLog();
        await using var server = await DispatchServer.StartAsync(log, tls: new DispatchTls(_certs.Issue("localhost", server: true)));
        var otherCaFile = Path.Combine(_certs.Folder, "other-ca.crt");
        await File.WriteAllTextAsync(otherCaFile, _certs.Authority("Some other CA").ExportCertificatePem());

        // Another CA's file, or none (the system trust store): the test CA is in neither.
        foreach (var (what, caFile) in new[] { ("another CA", otherCaFile), ("system trust", (string?)null) })
        {
            var logger = new CapturingLogger<DispatchPushClient>();
            var client = new DispatchPushClient(Options(server.Address, caFile), store, logger);
            await client.StartAsync(CancellationToken.None);
            try
            {
                await Wait.UntilAsync(() => client.FailedAttempts >= 3, $"3 failed attempts ({what})");
                Assert.False(client.IsConnected);
                Assert.Contains("remote certificate is invalid", client.LastError);   // the reason, for whoever reads the log
                Assert.Equal(0, client.Delivered);
                Assert.Equal(0, await store.CursorAsync(Consumer));
                _output.WriteLine($"{what}: LastError = {client.LastError}");
            }
            finally
            {
                await PushClients.StopAsync(client);
            }
            Assert.Contains(logger.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("Push: cannot deliver", StringComparison.Ordinal));
        }
        // The client hung up as soon as it saw the certificate (on Linux .NET checks it once OpenSSL's handshake is done,
        // so dispatch may count a finished handshake): not one call or event reached dispatch.
        Assert.NotEmpty(log.Connections);
        Assert.Empty(log.Calls);
        Assert.Empty(log.Taken);
    }
}
