using Grpc.Core;
using Prometheus;

namespace CitySight.Delivery;

/// <summary>
/// The open CaseFeed.Subscribe streams, per consumer and in all, held to <see cref="SubscriberLimits"/>: a stream
/// over either cap is refused with RESOURCE_EXHAUSTED before it follows the store.
/// </summary>
public sealed class SubscriberCounts(SubscriberLimits limits)
{
    private static readonly Gauge Open = Metrics.CreateGauge(
        "citysight_delivery_subscribers", "gRPC case feed subscriptions currently open.");

    private static readonly Counter Refused = Metrics.CreateCounter(
        "citysight_delivery_subscribers_refused_total", "Subscribe calls refused for a subscriber cap (RESOURCE_EXHAUSTED), by cap.",
        new CounterConfiguration { LabelNames = ["limit"] });

    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _byConsumer = new(StringComparer.Ordinal);
    private int _total;

    public SubscriberLimits Limits { get; } = limits;

    /// <summary>Streams open now, all consumers together.</summary>
    public int Total
    {
        get
        {
            lock (_gate) return _total;
        }
    }

    /// <summary>Streams open now for <paramref name="consumer"/>.</summary>
    public int Of(string consumer)
    {
        lock (_gate) return _byConsumer.GetValueOrDefault(consumer);
    }

    /// <summary>Counts one more stream for <paramref name="consumer"/>; dispose the result when it ends.</summary>
    /// <exception cref="RpcException">RESOURCE_EXHAUSTED: a cap is reached (the message names the consumer and the cap).</exception>
    public IDisposable Enter(string consumer)
    {
        lock (_gate)
        {
            var mine = _byConsumer.GetValueOrDefault(consumer);
            if (mine >= Limits.PerConsumer)
                throw Exhausted("per_consumer", $"consumer '{consumer}' already has {mine} open subscriptions, the most one consumer may have "
                    + $"(delivery.grpc.max_subscribers_per_consumer = {Limits.PerConsumer}); close one before subscribing again");
            if (_total >= Limits.Total)
                throw Exhausted("total", $"consumer '{consumer}' cannot subscribe: {_total} subscriptions are open, the most this service takes "
                    + $"(delivery.grpc.max_subscribers = {Limits.Total}); retry later");
            _byConsumer[consumer] = mine + 1;
            _total++;
        }
        Open.Inc();
        return new Lease(this, consumer);
    }

    private static RpcException Exhausted(string limit, string message)
    {
        Refused.WithLabels(limit).Inc();
        return new RpcException(new Status(StatusCode.ResourceExhausted, message));
    }

    private void Leave(string consumer)
    {
        lock (_gate)
        {
            var left = _byConsumer[consumer] - 1;
            if (left == 0) _byConsumer.Remove(consumer); // names come and go: keep only those with a stream open
            else _byConsumer[consumer] = left;
            _total--;
        }
        Open.Dec();
    }

    private sealed class Lease(SubscriberCounts counts, string consumer) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) counts.Leave(consumer);
        }
    }
}
