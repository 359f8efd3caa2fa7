using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using CitySight.Cases;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Prometheus;

namespace CitySight.Delivery.Mqtt;

/// <summary>
/// Publishes committed cases and camera states to an MQTT broker. The case store is the outbox: this is the store
/// consumer <see cref="MqttOptions.ConsumerName"/>; it follows the feed from its acknowledged cursor, publishes each
/// case with QoS 1 and advances the cursor only after the broker's PUBACK. When the broker goes away it reconnects with
/// capped exponential backoff and resumes from the cursor: nothing is lost, a case may arrive twice (same <c>id</c>).
/// </summary>
public sealed class MqttCasePublisher : BackgroundService
{
    private static readonly Gauge ConnectedGauge = Metrics.CreateGauge(
        "citysight_mqtt_connected", "1 while the MQTT publisher is connected to its broker.",
        new GaugeConfiguration { LabelNames = ["client_id"] });
    private static readonly Counter PublishedTotal = Metrics.CreateCounter(
        "citysight_mqtt_published_total", "Messages the broker acknowledged (PUBACK), by kind (case, camera_status).",
        new CounterConfiguration { LabelNames = ["client_id", "kind"] });
    private static readonly Counter ConnectFailures = Metrics.CreateCounter(
        "citysight_mqtt_connect_failures_total", "Failed MQTT connection attempts.",
        new CounterConfiguration { LabelNames = ["client_id"] });
    private static readonly Gauge Lag = Metrics.CreateGauge(
        "citysight_mqtt_lag", "Cases committed but not yet acknowledged by the broker (head sequence - acked cursor).",
        new GaugeConfiguration { LabelNames = ["client_id"] });

    private readonly MqttOptions _options;
    private readonly ICaseFeed _feed;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly MqttTopics _topics;
    private readonly MqttClientFactory _factory = new();
    private readonly ConcurrentDictionary<string, MqttCameraStatus> _cameras = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, MqttCameraStatus> _cameraDirty = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _cameraSignal = new(0, int.MaxValue);
    private IMqttClient? _client;
    private long _acked;
    private volatile bool _connected;
    private volatile string? _lastError;
    private long _published;
    private long _connectFailures;

    public MqttCasePublisher(MqttOptions options, ICaseFeed feed, ILogger<MqttCasePublisher> log, TimeProvider? time = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _feed = feed ?? throw new ArgumentNullException(nameof(feed));
        _log = log;
        _time = time ?? TimeProvider.System;
        _topics = new MqttTopics(options.TopicPrefix);
        Metrics.DefaultRegistry.AddBeforeCollectCallback(UpdateLag);
    }

    public MqttTopics Topics => _topics;
    public bool IsConnected => _connected;
    /// <summary>Why the last connection attempt or session failed (no secret in it); null once connected.</summary>
    public string? LastError => _lastError;
    /// <summary>Cases the broker acknowledged since start.</summary>
    public long Published => Interlocked.Read(ref _published);
    public long FailedConnects => Interlocked.Read(ref _connectFailures);
    /// <summary>The acknowledged cursor as this publisher last wrote it.</summary>
    public long AckedSequence => Interlocked.Read(ref _acked);

    /// <summary>A camera's state changed (or is first known): published retained now if connected, else at the next connect.</summary>
    public void ReportCameraStatus(MqttCameraStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (_cameras.TryGetValue(status.CameraId, out var old) && old == status) return;
        _cameras[status.CameraId] = status;
        _cameraDirty[status.CameraId] = status;
        _cameraSignal.Release();
    }

    private void UpdateLag() =>
        Lag.WithLabels(_options.ClientId).Set(Math.Max(0, _feed.LastSequence - Interlocked.Read(ref _acked)));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _acked = await _feed.CursorAsync(_options.ConsumerName, stoppingToken).ConfigureAwait(false);
        _log.LogInformation("MQTT: publishing to {Broker} as consumer {Consumer} from sequence {Cursor}",
            _options.ToString(), _options.ConsumerName, _acked);
        var attempt = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            using var client = _factory.CreateMqttClient();
            using var session = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            client.DisconnectedAsync += e =>
            {
                if (_connected)
                    _log.LogWarning("MQTT: disconnected from {Broker}: {Reason}", _options.ToString(),
                        Scrub(e.Exception?.Message ?? e.Reason.ToString()));
                SetConnected(false);
                try { session.Cancel(); } catch (ObjectDisposedException) { }
                return Task.CompletedTask;
            };
            try
            {
                await ConnectAsync(client, stoppingToken).ConfigureAwait(false);
                attempt = 0;
                _client = client;
                SetConnected(true);
                _lastError = null;
                _log.LogInformation("MQTT: connected to {Broker}", _options.ToString());
                await RunSessionAsync(client, session).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                var wasConnected = _connected || _client == client;
                var reason = Scrub(Describe(e));
                _lastError = reason;
                if (!wasConnected)
                {
                    Interlocked.Increment(ref _connectFailures);
                    ConnectFailures.WithLabels(_options.ClientId).Inc();
                    _log.LogWarning("MQTT: cannot connect to {Broker} (attempt {Attempt}): {Reason}", _options.ToString(), attempt + 1, reason);
                }
                else
                {
                    _log.LogWarning("MQTT: session with {Broker} ended: {Reason}", _options.ToString(), reason);
                }
            }
            finally
            {
                SetConnected(false);
                _client = null;
            }
            if (stoppingToken.IsCancellationRequested) break;
            var delay = Backoff(attempt++);
            try
            {
                await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Capped exponential backoff with ±20% jitter.</summary>
    private TimeSpan Backoff(int attempt) => Domain.Backoff.Exponential(_options.MinBackoff, _options.MaxBackoff, attempt);

    private async Task ConnectAsync(IMqttClient client, CancellationToken ct)
    {
        var willPayload = System.Text.Encoding.UTF8.GetBytes(MqttTopics.Offline);
        var b = new MqttClientOptionsBuilder()
            .WithTcpServer(_options.Host, _options.EffectivePort)
            .WithClientId(_options.ClientId)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(true)
            .WithKeepAlivePeriod(_options.KeepAlive)
            .WithTimeout(_options.ConnectTimeout)
            .WithWillTopic(_topics.ServiceStatus)
            .WithWillPayload(willPayload)
            .WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (_options.Username is { Length: > 0 } user) b = b.WithCredentials(user, _options.Password ?? "");
        if (_options.Tls.Enabled) b = b.WithTlsOptions(TlsOptions(_options.Tls, _options.Host));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.ConnectTimeout);
        MqttClientConnectResult result;
        try
        {
            result = await client.ConnectAsync(b.Build(), timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"no CONNACK within {_options.ConnectTimeout.TotalSeconds:0.#}s");
        }
        if (result.ResultCode != MqttClientConnectResultCode.Success)
            throw new MqttRefusedException($"the broker refused the connection: {result.ResultCode}");
    }

    private async Task RunSessionAsync(IMqttClient client, CancellationTokenSource session)
    {
        var ct = session.Token;
        await PublishAsync(client, _topics.ServiceStatus, System.Text.Encoding.UTF8.GetBytes(MqttTopics.Online), retain: true, ct).ConfigureAwait(false);
        // Every known camera once per connection (retained messages may have been lost with a broker without persistence).
        foreach (var key in _cameras.Keys) _cameraDirty[key] = _cameras[key];
        var cases = PublishCasesAsync(client, ct);
        var cameras = PublishCameraStatesAsync(client, ct);
        var first = await Task.WhenAny(cases, cameras).ConfigureAwait(false);
        try
        {
            await first.ConfigureAwait(false);
        }
        finally
        {
            // Whichever loop ended first ends the session: stop the other before the client goes.
            await session.CancelAsync().ConfigureAwait(false);
            try { await Task.WhenAll(cases, cameras).ConfigureAwait(false); } catch { /* the first failure is the one reported */ }
        }
    }

    private async Task PublishCasesAsync(IMqttClient client, CancellationToken ct)
    {
        var cursor = await _feed.CursorAsync(_options.ConsumerName, ct).ConfigureAwait(false);
        Interlocked.Exchange(ref _acked, cursor);
        // Every event of the case's life (opened, updated, state changed) on its type's topic, in feed order.
        await foreach (var e in _feed.EventsAsync(cursor, includeEvidence: false, ct).ConfigureAwait(false))
        {
            await PublishAsync(client, _topics.Case(e.Case.CaseType), MqttPayloads.Case(e.Case, e.Kind, e.Sequence), retain: false, ct).ConfigureAwait(false);
            // After the PUBACK, never before: a crash here re-sends this event on restart (at-least-once).
            var acked = await _feed.AckAsync(_options.ConsumerName, e.Sequence, CancellationToken.None).ConfigureAwait(false);
            Interlocked.Exchange(ref _acked, acked);
            Interlocked.Increment(ref _published);
            PublishedTotal.WithLabels(_options.ClientId, "case").Inc();
        }
    }

    private async Task PublishCameraStatesAsync(IMqttClient client, CancellationToken ct)
    {
        while (true)
        {
            foreach (var id in _cameraDirty.Keys.ToList())
            {
                if (!_cameraDirty.TryRemove(id, out var s)) continue;
                try
                {
                    await PublishAsync(client, _topics.CameraStatus(s.CameraId), MqttPayloads.CameraStatus(s, _time.GetUtcNow()), retain: true, ct)
                        .ConfigureAwait(false);
                }
                catch
                {
                    _cameraDirty.TryAdd(id, _cameras.GetValueOrDefault(id) ?? s); // send again on the next connection
                    throw;
                }
                PublishedTotal.WithLabels(_options.ClientId, "camera_status").Inc();
            }
            await _cameraSignal.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    private static async Task PublishAsync(IMqttClient client, string topic, byte[] payload, bool retain, CancellationToken ct)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(retain)
            .Build();
        var result = await client.PublishAsync(message, ct).ConfigureAwait(false);
        if (result.ReasonCode is not (MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers))
            throw new MqttRefusedException($"the broker refused a message on {topic}: {result.ReasonCode}");
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // A clean DISCONNECT suppresses the will: say offline ourselves first.
        if (_client is { IsConnected: true } client)
        {
            try
            {
                using var t = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                t.CancelAfter(TimeSpan.FromSeconds(2));
                await PublishAsync(client, _topics.ServiceStatus, System.Text.Encoding.UTF8.GetBytes(MqttTopics.Offline), retain: true, t.Token)
                    .ConfigureAwait(false);
                await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), t.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _log.LogDebug("MQTT: clean disconnect failed: {Reason}", Scrub(e.Message));
            }
        }
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        SetConnected(false);
        base.Dispose();
    }

    private void SetConnected(bool connected)
    {
        _connected = connected;
        ConnectedGauge.WithLabels(_options.ClientId).Set(connected ? 1 : 0);
    }

    private static string Describe(Exception e)
    {
        var parts = new List<string>();
        for (var x = e; x is not null && parts.Count < 3; x = x.InnerException)
            if (!string.IsNullOrWhiteSpace(x.Message) && !parts.Contains(x.Message)) parts.Add(x.Message);
        return parts.Count > 0 ? string.Join(": ", parts) : e.GetType().Name;
    }

    /// <summary>Whatever a library put in a message, the password never leaves this class.</summary>
    private string Scrub(string text) =>
        _options.Password is { Length: > 0 } p ? text.Replace(p, "***", StringComparison.Ordinal) : text;

    private static MqttClientTlsOptions TlsOptions(MqttTlsOptions tls, string host)
    {
        var ca = tls.CaFile is { Length: > 0 } caFile ? Security.PemFiles.Authorities(caFile) : null;
        var o = new MqttClientTlsOptions
        {
            UseTls = true,
            TargetHost = host,
            AllowUntrustedCertificates = tls.AllowUntrusted,
            IgnoreCertificateChainErrors = tls.AllowUntrusted,
            CertificateValidationHandler = args =>
            {
                if (tls.AllowUntrusted) return true;
                if (ca is null) return args.SslPolicyErrors == SslPolicyErrors.None;
                if ((args.SslPolicyErrors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false;
                return args.Certificate is not null && Security.PemFiles.ChainsTo(new X509Certificate2(args.Certificate), ca);
            },
        };
        if (tls.ClientCert is { Length: > 0 } cert && tls.ClientKey is { Length: > 0 } key)
        {
            o.ClientCertificatesProvider = new FixedCertificates(Security.PemFiles.WithKey(cert, key));
        }
        return o;
    }

    private sealed class FixedCertificates(X509Certificate2 cert) : IMqttClientCertificatesProvider
    {
        public X509CertificateCollection GetCertificates() => [cert];
    }
}

/// <summary>The broker answered, but no: a refused CONNECT (bad credentials, not authorised) or a refused PUBLISH.</summary>
public sealed class MqttRefusedException(string message) : Exception(message);
