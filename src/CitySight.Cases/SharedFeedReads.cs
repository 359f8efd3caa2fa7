namespace CitySight.Cases;

/// <summary>
/// One store read per batch for every follower at the same position: when a commit wakes K followers waiting after the
/// same sequence, the first one reads and the others await its batch (the same list, read only).
/// </summary>
/// <remarks>
/// A batch is shared by generation, the count of commits published when its read began: a follower may take a batch
/// read in its own generation or a later one (that read saw every commit the follower was woken for), never an older
/// one, which could miss a commit and leave the follower waiting for the next. Only the newest generation's batches
/// are kept, at most <see cref="MaxEntries"/> positions, so the cache holds about what the followers hold anyway.
/// </remarks>
internal sealed class SharedFeedReads
{
    private const int MaxEntries = 64;

    private readonly Lock _gate = new();
    private readonly Dictionary<Key, Entry> _entries = [];
    private long _reads;

    private readonly record struct Key(int Reader, long After, bool IncludeEvidence);

    private sealed record Entry(long Generation, Task<object> Batch);

    /// <summary>Store reads done (each shared by every follower that asked for the same batch meanwhile).</summary>
    public long Reads => Interlocked.Read(ref _reads);

    /// <param name="reader">Which query (feed or events): their batches differ for the same position.</param>
    /// <param name="generation">The follower's generation, taken with its signal before it looked.</param>
    public async ValueTask<List<T>> ReadAsync<T>(int reader, long after, bool includeEvidence, long generation, Func<long, List<T>> read)
    {
        var key = new Key(reader, after, includeEvidence);
        TaskCompletionSource<object>? mine = null;
        Entry entry;
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out entry!) || entry.Generation < generation)
            {
                mine = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
                entry = new Entry(generation, mine.Task);
                Forget(generation);
                _entries[key] = entry;
            }
        }
        if (mine is not null)
        {
            try
            {
                var batch = read(after);
                Interlocked.Increment(ref _reads);
                mine.SetResult(batch);
                return batch;
            }
            catch (Exception ex)
            {
                // Those waiting on this read get its error; the next follower reads afresh.
                lock (_gate)
                    if (_entries.TryGetValue(key, out var now) && ReferenceEquals(now, entry)) _entries.Remove(key);
                mine.SetException(ex);
                throw;
            }
        }
        return (List<T>)await entry.Batch.ConfigureAwait(false);
    }

    /// <summary>Under the gate: drops the batches of older generations, and everything when the cache is full.</summary>
    private void Forget(long generation)
    {
        if (_entries.Count == 0) return;
        List<Key>? old = null;
        foreach (var (k, e) in _entries)
            if (e.Generation < generation) (old ??= []).Add(k);
        if (old is not null) foreach (var k in old) _entries.Remove(k);
        if (_entries.Count >= MaxEntries) _entries.Clear();
    }
}
