using CitySight.Domain;

namespace CitySight.Cases;

/// <summary>
/// The store's outbox: an append-only, ordered feed of case events (opened, updated, state changed), each with the
/// next sequence, and each consumer's acknowledged position in it. "Everything after N" keeps its meaning across
/// restarts; delivery (gRPC, MQTT, push) is at least once from a consumer's cursor.
/// </summary>
public interface ICaseFeed
{
    /// <summary>The highest sequence committed so far (0 when the store is empty).</summary>
    long LastSequence { get; }

    /// <summary>
    /// Every feed event after <paramref name="afterSequence"/>, in order, then follows: a case opened, updated (seen
    /// later, a better picture), or a case whose state changed (<see cref="CaseFeedEvent.Case"/> as it is when read,
    /// at least as new as the event). The cursor is <see cref="CaseFeedEvent.Sequence"/>. Same following rules as
    /// <see cref="FeedAsync(long, bool, CancellationToken)"/>.
    /// </summary>
    IAsyncEnumerable<CaseFeedEvent> EventsAsync(long afterSequence, bool includeEvidence, CancellationToken ct = default);

    /// <summary>
    /// Replays opened cases with <see cref="Case.Sequence"/> &gt; <paramref name="afterSequence"/> in order, then
    /// follows: yields each new case once it is committed, until <paramref name="ct"/> is cancelled
    /// (<see cref="OperationCanceledException"/>) or the store is disposed (<see cref="ObjectDisposedException"/>).
    /// A cursor beyond the end simply waits. A slow consumer delays nobody else. With <paramref name="includeEvidence"/>
    /// false, <see cref="Case.Evidence"/> is left empty.
    /// </summary>
    IAsyncEnumerable<Case> FeedAsync(long afterSequence, bool includeEvidence, CancellationToken ct = default);

    /// <inheritdoc cref="FeedAsync(long, bool, CancellationToken)"/>
    IAsyncEnumerable<Case> FeedAsync(long afterSequence, CancellationToken ct = default) =>
        FeedAsync(afterSequence, includeEvidence: true, ct);

    /// <summary>
    /// Records that <paramref name="consumer"/> has processed every feed event up to <paramref name="sequence"/>, durably.
    /// Never moves a cursor back (an older or repeated ack changes nothing, so acks may arrive out of order or twice).
    /// </summary>
    /// <returns>The consumer's cursor afterwards.</returns>
    /// <exception cref="ArgumentException">Empty consumer name, or a sequence below 0 or beyond the newest event.</exception>
    Task<long> AckAsync(string consumer, long sequence, CancellationToken ct = default);

    /// <summary>The last sequence <paramref name="consumer"/> acknowledged; 0 for a consumer never seen.</summary>
    Task<long> CursorAsync(string consumer, CancellationToken ct = default);

    /// <summary>Every consumer with its cursor, by name (for metrics and the admin view).</summary>
    IReadOnlyList<(string Consumer, long Acked, DateTimeOffset AckedAt)> Consumers();
}
