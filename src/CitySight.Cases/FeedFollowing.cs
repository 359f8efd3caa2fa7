using System.Runtime.CompilerServices;
using Prometheus;

namespace CitySight.Cases;

/// <summary>
/// What every backend's feed does for its followers: the head this process knows, the commit signal that wakes them,
/// the shared reads (followers at one position read the store once between them), and the follow loop itself. The
/// backend only says how to read a batch after a sequence.
/// </summary>
internal sealed class FeedFollowing(long head, string storeName, Action throwIfDisposed)
{
    /// <summary>Feed rows read per query; a follower never holds a read transaction open while its consumer is busy.</summary>
    private const int FeedBatchSize = 256;

    /// <summary>
    /// With pictures, fewer per query: what one follower holds while its consumer is slow is one batch (plus the
    /// transport's window), so 16 × a few hundred KB, not 256 ×.
    /// </summary>
    private const int EvidenceBatchSize = 16;

    private static readonly Gauge Followers = Metrics.CreateGauge(
        "citysight_case_feed_followers", "Case feed readers currently following the store.");

    private readonly CancellationTokenSource _closing = new();
    // A follower notes the signal's generation BEFORE it looks, so a commit racing with its look still wakes it.
    private readonly CommitSignal _committed = new();
    private readonly SharedFeedReads _reads = new();
    private long _head = head;

    public static int BatchSize(bool includeEvidence) => includeEvidence ? EvidenceBatchSize : FeedBatchSize;

    /// <summary>The newest sequence this process knows to be committed.</summary>
    public long Head => Volatile.Read(ref _head);

    /// <summary>Feed batches read from the store so far (followers at one position share a read).</summary>
    public long StoreReads => _reads.Reads;

    /// <summary>A sequence known committed: the head moves forward only (announcements may come out of order), then followers wake.</summary>
    public void Committed(long sequence)
    {
        var head = Volatile.Read(ref _head);
        while (sequence > head)
        {
            var was = Interlocked.CompareExchange(ref _head, sequence, head);
            if (was == head)
            {
                _committed.Publish();
                return;
            }
            head = was;
        }
    }

    /// <summary>From now on followers end with ObjectDisposedException.</summary>
    public void Close() => _closing.Cancel(); // deliberately not disposed: followers still unwinding read its state

    /// <summary>
    /// Every item after <paramref name="afterSequence"/>, then each new one as it is committed, until
    /// <paramref name="ct"/> or <see cref="Close"/>. <paramref name="reader"/> tells shared reads of different shapes apart.
    /// </summary>
    public async IAsyncEnumerable<T> FollowAsync<T>(int reader, long afterSequence, bool includeEvidence, Func<long, List<T>> read,
        Func<T, long> sequenceOf, [EnumeratorCancellation] CancellationToken ct)
    {
        var batchSize = BatchSize(includeEvidence);
        ArgumentOutOfRangeException.ThrowIfNegative(afterSequence);
        throwIfDisposed();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, _closing.Token);
        using var waiter = _committed.Join(stop.Token);
        Followers.Inc();
        try
        {
            var cursor = afterSequence;
            while (true)
            {
                // Order matters: note the generation, then look. A commit after this line ends the wait below at once.
                var generation = _committed.Generation;
                List<T>? batch = null;
                if (Volatile.Read(ref _head) > cursor)
                {
                    try
                    {
                        // Shared: the followers a commit wakes at the same position read the store once between them.
                        batch = await _reads.ReadAsync(reader, cursor, includeEvidence, generation, read).ConfigureAwait(false);
                    }
                    catch (ObjectDisposedException) when (_closing.IsCancellationRequested)
                    {
                        throw Closed();
                    }
                }
                if (batch is not null)
                {
                    foreach (var item in batch)
                    {
                        ct.ThrowIfCancellationRequested();
                        yield return item;
                        cursor = sequenceOf(item);
                    }
                }
                if (batch is not null && batch.Count == batchSize) continue;
                // Awaited here, not in a helper: a helper's await would box a state machine per wake per follower.
                try
                {
                    await waiter.WaitAsync(generation).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested && _closing.IsCancellationRequested)
                {
                    throw Closed();
                }
            }
        }
        finally
        {
            Followers.Dec();
        }
    }

    private ObjectDisposedException Closed() => new(storeName, "the case store was closed while following the feed");
}
