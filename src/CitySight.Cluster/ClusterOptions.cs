namespace CitySight.Cluster;

/// <summary>
/// How one node takes part in camera ownership (<c>cluster.lease</c>; the node's id is <c>cluster.node_id</c>).
/// </summary>
public sealed record ClusterOptions
{
    /// <summary>
    /// How long a lease and a heartbeat last. A node ticks every third of it; a dead node's cameras move within two
    /// leases; a node that cannot renew stops its cameras after <see cref="FenceFraction"/> of it.
    /// </summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>This node's weight in the balance: a node of capacity 2 gets twice the cameras of a node of capacity 1.</summary>
    public double Capacity { get; init; } = 1.0;

    /// <summary>
    /// The most cameras a node gives up in one tick when it holds more than its share (a node joined): the moves are
    /// spread over ticks instead of restarting a crowd at once. 0: automatic, 2 or one in fifty cameras, whichever is more.
    /// </summary>
    public int MaxReleasesPerTick { get; init; }

    /// <summary>
    /// Part of a lease, counted on the local monotonic clock from the start of the last renewal that committed, after
    /// which the node drops every camera it has not renewed since: before the lease ends in the database, so a node cut
    /// off from it never streams a camera another node has taken.
    /// </summary>
    public double FenceFraction { get; init; } = 0.8;

    internal void Validate()
    {
        if (Lease < TimeSpan.FromMilliseconds(300)) throw new ArgumentOutOfRangeException(nameof(Lease), Lease, "a lease of at least 300 ms");
        if (!(Capacity > 0) || double.IsInfinity(Capacity)) throw new ArgumentOutOfRangeException(nameof(Capacity), Capacity, "a capacity above 0");
        if (MaxReleasesPerTick < 0) throw new ArgumentOutOfRangeException(nameof(MaxReleasesPerTick), MaxReleasesPerTick, "0 (automatic) or more");
        if (!(FenceFraction is > 0.1 and < 0.95)) throw new ArgumentOutOfRangeException(nameof(FenceFraction), FenceFraction, "between 0.1 and 0.95 of a lease");
    }
}
