using CitySight.Cases;
using CitySight.Delivery.V1;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace CitySight.Delivery.Push;

/// <summary>
/// Push mode: CitySight is the client of the district's DispatchIntake endpoint (proto/citysight/v1/dispatch_intake.proto).
/// The case store is the outbox: this is the store consumer <see cref="DispatchPushOptions.Consumer"/>. It opens one
/// <c>Deliver</c> call, sends every event after its cursor in sequence order with at most
/// <see cref="DispatchPushOptions.Window"/> events in flight, and moves the cursor to the highest contiguous receipted
/// sequence. On any failure it cancels the call, backs off exponentially with jitter up to
/// <see cref="DispatchPushOptions.MaxBackoff"/> and calls again from the cursor: un-receipted events go out again
/// (at-least-once; the case id is the idempotency key).
/// </summary>
public sealed class DispatchPushClient : BackgroundService
{
    private static readonly Gauge ConnectedGauge = Metrics.CreateGauge(
        "citysight_push_connected", "1 while the Deliver call to the dispatch intake is open (response headers received).",
        new GaugeConfiguration { LabelNames = ["consumer"] });
    private static readonly Counter DeliveredTotal = Metrics.CreateCounter(
        "citysight_push_delivered_total", "Events the dispatch intake receipted (a re-sent event receipted again counts again).",
        new CounterConfiguration { LabelNames = ["consumer"] });
    private static readonly Counter SentTotal = Metrics.CreateCounter(
        "citysight_push_sent_total", "Events written to the Deliver stream, re-sends included.",
        new CounterConfiguration { LabelNames = ["consumer"] });
    private static readonly Counter FailuresTotal = Metrics.CreateCounter(
        "citysight_push_failures_total", "Deliver calls that failed or ended, by gRPC status code (or 'receipt_timeout', 'ended').",
        new CounterConfiguration { LabelNames = ["consumer", "code"] });
    private static readonly Gauge Lag = Metrics.CreateGauge(
        "citysight_push_lag", "Events committed but not yet receipted by dispatch (head sequence - cursor).",
        new GaugeConfiguration { LabelNames = ["consumer"] });

    private readonly DispatchPushOptions _options;
    private readonly ICaseFeed _feed;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private long _acked;
    private volatile bool _connected;
    private volatile string? _lastError;
    private long _sent;
    private long _delivered;
    private long _receipts;
    private long _failures;
    private long _calls;
    private long _refusals;

    public DispatchPushClient(DispatchPushOptions options, ICaseFeed feed, ILogger<DispatchPushClient> log, TimeProvider? time = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _feed = feed ?? throw new ArgumentNullException(nameof(feed));
        _log = log ?? throw new ArgumentNullException(nameof(log));
        _time = time ?? TimeProvider.System;
        if (options.Endpoint.Scheme is not ("http" or "https"))
            throw new ArgumentException($"delivery.push.endpoint must be http:// or https://, not {options.Endpoint.Scheme}://", nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Window, 1, nameof(options.Window));
        Metrics.DefaultRegistry.AddBeforeCollectCallback(UpdateLag);
    }

    public bool IsConnected => _connected;
    /// <summary>Why the last call failed or ended (no secret in it); null while a call is open.</summary>
    public string? LastError => _lastError;
    /// <summary>Events written to the stream since start (re-sends included).</summary>
    public long Sent => Interlocked.Read(ref _sent);
    /// <summary>Events dispatch receipted since start (each first receipt of an event sent on a call).</summary>
    public long Delivered => Interlocked.Read(ref _delivered);
    /// <summary>Receipt messages read since start, whatever they said.</summary>
    public long ReceiptsReceived => Interlocked.Read(ref _receipts);
    /// <summary>Calls that failed before dispatch accepted them (e.g. refused, unreachable).</summary>
    public long FailedAttempts => Interlocked.Read(ref _failures);
    /// <summary>Deliver calls started since start.</summary>
    public long Calls => Interlocked.Read(ref _calls);
    /// <summary>The outbox cursor as this client last wrote it.</summary>
    public long AckedSequence => Interlocked.Read(ref _acked);

    private void UpdateLag() =>
        Lag.WithLabels(_options.Consumer).Set(Math.Max(0, _feed.LastSequence - Interlocked.Read(ref _acked)));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Interlocked.Exchange(ref _acked, await _feed.CursorAsync(_options.Consumer, stoppingToken).ConfigureAwait(false));
        _log.LogInformation("Push: delivering to {Endpoint} as consumer {Consumer} from sequence {Cursor} ({Auth}, evidence {Evidence})",
            _options.ToString(), _options.Consumer, AckedSequence, _options.ApiKey is { Length: > 0 } ? "with API key" : "no API key",
            _options.IncludeEvidence ? "included" : "not included");
        using var channel = DispatchIntakeChannel.Create(_options);
        var client = new DispatchIntake.DispatchIntakeClient(channel);
        var attempt = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var session = new Session(_options.Window);
            try
            {
                await RunSessionAsync(client, session, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                var reason = Scrub(Describe(e));
                _lastError = reason;
                FailuresTotal.WithLabels(_options.Consumer, CodeOf(e)).Inc();
                // A refusal usually comes after response headers (the server read the call, then said no): it is a failed
                // attempt all the same, and keeps backing off.
                var refused = e is RpcException { StatusCode: StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.Unimplemented };
                if (session.Accepted && !refused)
                {
                    attempt = 0;
                    Volatile.Write(ref _refusals, 0);
                    _log.LogWarning("Push: call to {Endpoint} ended: {Reason}; resuming from sequence {Cursor}", _options.ToString(), reason, AckedSequence);
                }
                else
                {
                    Interlocked.Increment(ref _failures);
                    if (refused)
                    {
                        Interlocked.Increment(ref _refusals);
                        _log.LogWarning("Push: {Endpoint} refused CitySight (attempt {Attempt}): {Reason}; check the key in delivery.push.api_key_env, the client certificate and the endpoint",
                            _options.ToString(), attempt + 1, reason);
                    }
                    else
                        _log.LogWarning("Push: cannot deliver to {Endpoint} (attempt {Attempt}): {Reason}", _options.ToString(), attempt + 1, reason);
                }
            }
            finally
            {
                SetConnected(false);
            }
            if (stoppingToken.IsCancellationRequested) break;
            try
            {
                await Task.Delay(Backoff(attempt++), _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Capped exponential backoff with ±20% jitter.</summary>
    private TimeSpan Backoff(int attempt) => Domain.Backoff.Exponential(_options.MinBackoff, _options.MaxBackoff, attempt);

    /// <summary>One Deliver call: send, read receipts and watch for a stuck receipt until one of them fails.</summary>
    private async Task RunSessionAsync(DispatchIntake.DispatchIntakeClient client, Session session, CancellationToken stoppingToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var ct = cts.Token;
        var cursor = await _feed.CursorAsync(_options.Consumer, ct).ConfigureAwait(false);
        Interlocked.Exchange(ref _acked, cursor);
        var headers = new Metadata();
        if (_options.ApiKey is { Length: > 0 } key) headers.Add("x-api-key", key);
        Interlocked.Increment(ref _calls);
        using var call = client.Deliver(headers, cancellationToken: ct);
        var accepted = AwaitAcceptedAsync(call, session, cursor);
        var send = SendAsync(call, session, cursor, ct);
        var receive = ReceiveAsync(call, session, ct);
        var watch = WatchReceiptsAsync(session, ct);
        var first = await Task.WhenAny(send, receive, watch).ConfigureAwait(false);
        try
        {
            await first.ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && !stoppingToken.IsCancellationRequested)
        {
            // A write in flight when dispatch ends the call fails as "cancelled", possibly before the receive loop has
            // read the status: what dispatch said (e.g. Unauthenticated) is the reason, and decides the backoff. The
            // receive loop gets a moment to read it before this side cancels the call.
            try { await receive.WaitAsync(StatusGrace, _time, CancellationToken.None).ConfigureAwait(false); } catch { /* read below */ }
            if (ServerStatus(call) is { } status) throw new RpcException(status);
            if (receive.Exception?.InnerException is RpcException { StatusCode: not StatusCode.Cancelled } said) throw said;
            throw;
        }
        finally
        {
            // Whichever part ended first ends the call (cancelling it resets the HTTP/2 stream); the rest stop with it.
            await cts.CancelAsync().ConfigureAwait(false);
            try { await Task.WhenAll(send, receive, watch, accepted).ConfigureAwait(false); } catch { /* the first failure is the one reported */ }
        }
    }

    private static readonly TimeSpan StatusGrace = TimeSpan.FromSeconds(1);

    /// <summary>The status dispatch ended the call with, if it has (not one of this side's own cancellations).</summary>
    private static Status? ServerStatus(AsyncDuplexStreamingCall<CaseEvent, Receipt> call)
    {
        try
        {
            var status = call.GetStatus();
            return status.StatusCode is StatusCode.OK or StatusCode.Cancelled ? null : status;
        }
        catch (InvalidOperationException)
        {
            return null; // not over yet
        }
    }

    private async Task AwaitAcceptedAsync(AsyncDuplexStreamingCall<CaseEvent, Receipt> call, Session session, long cursor)
    {
        try
        {
            await call.ResponseHeadersAsync.ConfigureAwait(false);
        }
        catch
        {
            return; // refused or cancelled: the receive loop reports it
        }
        try
        {
            // A trailers-only answer or a non-gRPC HTTP answer (e.g. 401 from a proxy) has "headers" too, and the call is over.
            call.GetStatus();
            return;
        }
        catch (InvalidOperationException)
        {
            // Still open.
        }
        MarkAccepted(session, cursor, receipted: false);
    }

    /// <summary>
    /// Response headers: dispatch took the call. After refusals, though, headers prove nothing (a refusal comes after
    /// them): then only a receipt counts as connected.
    /// </summary>
    private void MarkAccepted(Session session, long cursor, bool receipted)
    {
        if (session.TryAccept() && Volatile.Read(ref _refusals) == 0)
        {
            Connected();
            _log.LogInformation("Push: connected to {Endpoint}, sending from sequence {Cursor}", _options.ToString(), cursor);
        }
        else if (receipted && !_connected)
        {
            Volatile.Write(ref _refusals, 0);
            Connected();
            _log.LogInformation("Push: {Endpoint} takes CitySight's events again (from sequence {Cursor})", _options.ToString(), cursor);
        }
    }

    private void Connected()
    {
        _lastError = null;
        SetConnected(true);
    }

    private async Task SendAsync(AsyncDuplexStreamingCall<CaseEvent, Receipt> call, Session session, long cursor, CancellationToken ct)
    {
        await foreach (var e in _feed.EventsAsync(cursor, _options.IncludeEvidence, ct).ConfigureAwait(false))
        {
            await session.Window.WaitAsync(ct).ConfigureAwait(false);
            // Recorded before the write: a receipt can come back before WriteAsync returns.
            session.Sent(e.Sequence, e.Case.Id, _time.GetTimestamp());
            await call.RequestStream.WriteAsync(CaseMapping.ToEvent(e, _options.IncludeEvidence), ct).ConfigureAwait(false);
            Interlocked.Increment(ref _sent);
            SentTotal.WithLabels(_options.Consumer).Inc();
        }
    }

    private async Task ReceiveAsync(AsyncDuplexStreamingCall<CaseEvent, Receipt> call, Session session, CancellationToken ct)
    {
        while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
        {
            var r = call.ResponseStream.Current;
            Interlocked.Increment(ref _receipts);
            MarkAccepted(session, AckedSequence, receipted: true); // a server that sends no headers of its own first counts once it receipts
            var sequence = r.Sequence > long.MaxValue ? -1 : (long)r.Sequence;
            var (outcome, advancedTo, released) = session.Receipt(sequence, r.CaseId);
            switch (outcome)
            {
                case ReceiptOutcome.Taken:
                    Interlocked.Increment(ref _delivered);
                    DeliveredTotal.WithLabels(_options.Consumer).Inc();
                    break;
                case ReceiptOutcome.Mismatch:
                    _log.LogWarning("Push: receipt for sequence {Sequence} names case {Got}, not the case sent with it; ignored (the event will be sent again)",
                        r.Sequence, Scrub(r.CaseId));
                    break;
                case ReceiptOutcome.Unknown:
                    _log.LogDebug("Push: receipt for sequence {Sequence}, which is not in flight on this call; ignored", r.Sequence);
                    break;
            }
            if (released > 0) session.Window.Release(released);
            if (advancedTo > AckedSequence)
            {
                // Durable before anything else happens: a crash after this line re-sends nothing dispatch already has.
                var acked = await _feed.AckAsync(_options.Consumer, advancedTo, CancellationToken.None).ConfigureAwait(false);
                Interlocked.Exchange(ref _acked, acked);
            }
        }
        throw new DispatchCallEndedException(session.InFlight > 0
            ? $"dispatch ended the call with {session.InFlight} event(s) not receipted"
            : "dispatch ended the call");
    }

    private async Task WatchReceiptsAsync(Session session, CancellationToken ct)
    {
        var timeout = _options.ReceiptTimeout;
        var period = TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromSeconds(5).Ticks));
        while (true)
        {
            await Task.Delay(period, _time, ct).ConfigureAwait(false);
            if (session.Oldest() is { } oldest && _time.GetElapsedTime(oldest.SentAt) > timeout)
                throw new ReceiptTimeoutException(
                    $"no receipt for sequence {oldest.Sequence} within {timeout.TotalSeconds:0.###}s; calling again to re-send from sequence {AckedSequence + 1}");
        }
    }

    private void SetConnected(bool connected)
    {
        _connected = connected;
        ConnectedGauge.WithLabels(_options.Consumer).Set(connected ? 1 : 0);
    }

    public override void Dispose()
    {
        SetConnected(false);
        base.Dispose();
    }

    private static string CodeOf(Exception e) => e switch
    {
        RpcException r => r.StatusCode.ToString(),
        ReceiptTimeoutException => "receipt_timeout",
        DispatchCallEndedException => "ended",
        _ => "error",
    };

    private static string Describe(Exception e)
    {
        if (e is RpcException r)
        {
            var text = string.IsNullOrEmpty(r.Status.Detail) ? r.StatusCode.ToString() : $"{r.StatusCode}: {r.Status.Detail}";
            return r.Status.DebugException is { } inner && !text.Contains(inner.Message, StringComparison.Ordinal)
                ? $"{text} ({inner.Message})" : text;
        }
        var parts = new List<string>();
        for (var x = e; x is not null && parts.Count < 3; x = x.InnerException)
            if (!string.IsNullOrWhiteSpace(x.Message) && !parts.Contains(x.Message)) parts.Add(x.Message);
        return parts.Count > 0 ? string.Join(": ", parts) : e.GetType().Name;
    }

    /// <summary>Whatever dispatch or a library put in a message, the API key never leaves this class.</summary>
    private string Scrub(string text) =>
        _options.ApiKey is { Length: > 0 } k ? text.Replace(k, "***", StringComparison.Ordinal) : text;

    private enum ReceiptOutcome { Taken, Repeat, Mismatch, Unknown }

    /// <summary>What one call has in flight: sent events in sequence order, which are receipted, and the window.</summary>
    private sealed class Session(int window)
    {
        private readonly object _gate = new();
        private readonly Queue<long> _order = new();
        private readonly Dictionary<long, Entry> _entries = new();
        private int _accepted;

        public SemaphoreSlim Window { get; } = new(window, window);
        public bool Accepted => Volatile.Read(ref _accepted) != 0;
        public bool TryAccept() => Interlocked.Exchange(ref _accepted, 1) == 0;

        public int InFlight
        {
            get { lock (_gate) return _order.Count; }
        }

        public void Sent(long sequence, string caseId, long sentAt)
        {
            lock (_gate)
            {
                _order.Enqueue(sequence);
                _entries[sequence] = new Entry(caseId, sentAt);
            }
        }

        /// <summary>The oldest event sent and not yet receipted (the head: receipted heads are always removed).</summary>
        public (long Sequence, long SentAt)? Oldest()
        {
            lock (_gate)
                return _order.TryPeek(out var s) ? (s, _entries[s].SentAt) : null;
        }

        /// <returns>What the receipt meant, the new contiguous high-water mark (0: unchanged) and how many window slots it frees.</returns>
        public (ReceiptOutcome Outcome, long AdvancedTo, int Released) Receipt(long sequence, string caseId)
        {
            lock (_gate)
            {
                if (!_entries.TryGetValue(sequence, out var entry)) return (ReceiptOutcome.Unknown, 0, 0);
                if (entry.Receipted) return (ReceiptOutcome.Repeat, 0, 0);
                if (caseId.Length > 0 && !string.Equals(caseId, entry.CaseId, StringComparison.Ordinal)) return (ReceiptOutcome.Mismatch, 0, 0);
                entry.Receipted = true;
                long advanced = 0;
                var released = 0;
                while (_order.TryPeek(out var head) && _entries[head].Receipted)
                {
                    _order.Dequeue();
                    _entries.Remove(head);
                    advanced = head;
                    released++;
                }
                return (ReceiptOutcome.Taken, advanced, released);
            }
        }

        private sealed class Entry(string caseId, long sentAt)
        {
            public string CaseId { get; } = caseId;
            public long SentAt { get; } = sentAt;
            public bool Receipted { get; set; }
        }
    }
}

/// <summary>Dispatch ended the Deliver call (any status): CitySight calls again from its cursor.</summary>
public sealed class DispatchCallEndedException(string message) : Exception(message);

/// <summary>An event stayed without a receipt past <see cref="DispatchPushOptions.ReceiptTimeout"/>.</summary>
public sealed class ReceiptTimeoutException(string message) : TimeoutException(message);
