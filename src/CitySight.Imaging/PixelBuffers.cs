namespace CitySight.Imaging;

/// <summary>
/// The big scratch arrays of evidence pictures (canvas pixels, a scaled view), kept process-wide rather than per thread:
/// one of each kind is cached and handed to whoever asks next, whatever thread it is on. Evidence is drawn on whichever
/// pool thread raises a case, so per-thread caching (native arenas, or ArrayPool's thread-local slots) keeps a
/// megabytes-sized buffer for every thread that ever drew one; this keeps one, the largest asked for. Thread-safe; a
/// second caller at the same moment gets a fresh array, dropped when given back if the slot is taken.
/// </summary>
internal sealed class PixelBuffers
{
    private byte[]? _cached;

    public static PixelBuffers Canvas { get; } = new();
    public static PixelBuffers Scaled { get; } = new();

    /// <summary>An array of at least <paramref name="length"/> bytes, holding anything.</summary>
    public byte[] Take(int length)
    {
        var cached = Interlocked.Exchange(ref _cached, null);
        if (cached is not null && cached.Length >= length) return cached;
        // Too small (a bigger picture than before): dropped, so the cache follows the largest size in use.
        return GC.AllocateUninitializedArray<byte>(length, pinned: true);
    }

    /// <summary>Keeps <paramref name="buffer"/> for the next caller unless one is kept already.</summary>
    public void Give(byte[] buffer) => Interlocked.CompareExchange(ref _cached, buffer, null);
}
