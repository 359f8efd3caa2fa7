namespace CitySight.Delivery;

/// <summary>
/// delivery.grpc.max_subscribers and max_subscribers_per_consumer: how many CaseFeed.Subscribe streams may be open at
/// once, per consumer and in all. Each open stream holds a follower, an HTTP/2 stream and its buffers: the caps keep a
/// misbehaving client (a reconnect loop that never closes its old streams) from exhausting the service.
/// </summary>
public sealed record SubscriberLimits
{
    /// <summary>Streams open at once for one consumer name (unnamed subscribers count as one consumer, "(unnamed)").</summary>
    public int PerConsumer { get; init; } = 16;

    /// <summary>Streams open at once, all consumers together.</summary>
    public int Total { get; init; } = 4096;
}
