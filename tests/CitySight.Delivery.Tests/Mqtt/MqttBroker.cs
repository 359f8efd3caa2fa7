using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CitySight.Tests;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace CitySight.Delivery.Tests.Mqtt;

/// <summary>A real mosquitto (Debian package) on a free loopback port, with its own temp config; killed on dispose.</summary>
internal sealed class MqttBroker : IDisposable
{
    private Process? _process;
    private readonly ConcurrentQueue<string> _errors = new();
    public string Dir { get; } = TestAssets.TempDir("mosquitto");
    public int Port { get; }
    public string ConfPath => Path.Combine(Dir, "mosquitto.conf");

    /// <summary>The TLS listener's port (0 without <c>tls</c>); <see cref="Port"/> stays plain, for the test's own subscriber.</summary>
    public int TlsPort { get; }

    /// <param name="tls">Adds a second listener on <see cref="TlsPort"/> with mosquitto's TLS (and, if asked, client certificates).</param>
    /// <param name="acl">Contents of an acl_file (mosquitto's format); null: every client may do everything.</param>
    public MqttBroker(string? user = null, string? password = null, bool persistence = false, BrokerTls? tls = null, string? acl = null)
    {
        Port = TestPorts.Free();
        var conf = new StringBuilder()
            .AppendLine($"listener {Port} 127.0.0.1")
            .AppendLine("user root")
            .AppendLine("log_dest stderr")
            .AppendLine("log_type error");
        if (persistence) conf.AppendLine("persistence true").AppendLine($"persistence_location {Dir}/");
        else conf.AppendLine("persistence false");
        if (user is not null)
        {
            var pw = Path.Combine(Dir, "passwd");
            Run("mosquitto_passwd", "-b", "-c", pw, user, password!);
            conf.AppendLine("allow_anonymous false").AppendLine($"password_file {pw}");
        }
        else conf.AppendLine("allow_anonymous true");
        if (acl is not null)
        {
            var aclFile = Path.Combine(Dir, "acl");
            File.WriteAllText(aclFile, acl);
            conf.AppendLine($"acl_file {aclFile}");
        }
        if (tls is not null)
        {
            // TLS settings belong to the listener line before them.
            do TlsPort = TestPorts.Free(); while (TlsPort == Port);
            conf.AppendLine($"listener {TlsPort} 127.0.0.1")
                .AppendLine($"cafile {tls.CaFile}")
                .AppendLine($"certfile {tls.CertFile}")
                .AppendLine($"keyfile {tls.KeyFile}");
            if (tls.RequireCertificate) conf.AppendLine("require_certificate true").AppendLine("use_identity_as_username true");
        }
        File.WriteAllText(ConfPath, conf.ToString());
        Start();
    }

    public void Start()
    {
        var psi = new ProcessStartInfo("mosquitto") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(ConfPath);
        _process = Process.Start(psi)!;
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _errors.Enqueue(e.Data); };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow + CaseSamples.TestTimeout;
        int[] ports = TlsPort > 0 ? [Port, TlsPort] : [Port];
        foreach (var port in ports)
        {
            while (true)
            {
                if (_process.HasExited) throw new InvalidOperationException($"mosquitto exited with {_process.ExitCode}: {Errors}");
                try
                {
                    using var c = new TcpClient();
                    c.Connect(IPAddress.Loopback, port);
                    break;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline)
                {
                    _process.WaitForExit(20); // the broker is still binding its port
                }
            }
        }
    }

    /// <summary>What mosquitto wrote to stderr (log_type error), for a failing test to show.</summary>
    public string Errors => string.Join("\n", _errors);

    /// <summary>SIGTERM (a persistent broker saves its sessions), then wait for it to be gone.</summary>
    public void Stop()
    {
        if (_process is null || _process.HasExited) return;
        Run("kill", "-TERM", _process.Id.ToString());
        if (!_process.WaitForExit(10_000)) _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        if (_process is { HasExited: false }) { _process.Kill(); _process.WaitForExit(); }
        _process?.Dispose();
    }

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} failed: {err}");
    }
}

/// <summary>A TLS listener: the broker's certificate and key (PEM) and the CA it checks client certificates against.</summary>
/// <param name="RequireCertificate">Clients must present a certificate signed by <paramref name="CaFile"/>; its CN becomes the username.</param>
internal sealed record BrokerTls(string CaFile, string CertFile, string KeyFile, bool RequireCertificate = false);

/// <summary>A real MQTT client subscribed to a filter, collecting every message it receives.</summary>
internal sealed class MqttCollector : IAsyncDisposable
{
    public sealed record Received(string Topic, string Payload, MqttQualityOfServiceLevel QoS, bool Retain);

    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly ConcurrentQueue<Received> _messages = new();
    private readonly SemaphoreSlim _arrived = new(0, int.MaxValue);

    private MqttCollector()
    {
        _client.ApplicationMessageReceivedAsync += e =>
        {
            var m = e.ApplicationMessage;
            _messages.Enqueue(new Received(m.Topic, Encoding.UTF8.GetString(m.Payload), m.QualityOfServiceLevel, m.Retain));
            _arrived.Release();
            return Task.CompletedTask;
        };
    }

    public IReadOnlyList<Received> Messages => _messages.ToArray();

    /// <param name="persistentId">A client id with a persistent session: the broker queues QoS 1 messages while it is away.</param>
    public static async Task<MqttCollector> ConnectAsync(int port, string filter, string? persistentId = null, string? user = null, string? password = null)
    {
        var c = new MqttCollector();
        var b = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithProtocolVersion(MqttProtocolVersion.V500);
        b = persistentId is null ? b.WithCleanStart(true) : b.WithClientId(persistentId).WithCleanStart(false).WithSessionExpiryInterval(3600);
        if (user is not null) b = b.WithCredentials(user, password);
        using var t = new CancellationTokenSource(CaseSamples.TestTimeout);
        await c._client.ConnectAsync(b.Build(), t.Token);
        await c._client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(f => f.WithTopic(filter).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainAsPublished(true)).Build(), t.Token);
        return c;
    }

    /// <summary>Waits (no sleeps: woken by each arriving message) until the condition holds over what has arrived.</summary>
    public async Task<IReadOnlyList<Received>> WaitForAsync(Func<IReadOnlyList<Received>, bool> done, string what)
    {
        using var t = new CancellationTokenSource(CaseSamples.TestTimeout);
        while (true)
        {
            var now = Messages;
            if (done(now)) return now;
            try
            {
                await _arrived.WaitAsync(t.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"timed out waiting for {what}; got {now.Count}: {string.Join(", ", now.Select(m => m.Topic))}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try { if (_client.IsConnected) await _client.DisconnectAsync(); } catch { }
        _client.Dispose();
    }
}
