using System.Buffers;

namespace CitySight.Domain;

/// <summary>
/// A decoded picture from one camera, BGR24, in a pooled buffer.
/// Exactly one stage owns a frame at a time; the last one disposes it, which returns the buffer.
/// </summary>
public sealed class Frame : IDisposable
{
    private byte[]? _pixels;

    public Frame(string cameraId, long sequence, DateTimeOffset captureTime, int width, int height, byte[] pooledPixels)
    {
        if (pooledPixels.Length < width * height * 3)
            throw new ArgumentException("buffer smaller than width*height*3", nameof(pooledPixels));
        CameraId = cameraId;
        Sequence = sequence;
        CaptureTime = captureTime;
        Width = width;
        Height = height;
        _pixels = pooledPixels;
    }

    /// <summary>Rents a buffer big enough for a frame of this size from the shared pool.</summary>
    public static Frame Rent(string cameraId, long sequence, DateTimeOffset captureTime, int width, int height) =>
        new(cameraId, sequence, captureTime, width, height, ArrayPool<byte>.Shared.Rent(width * height * 3));

    public string CameraId { get; }
    public long Sequence { get; }

    /// <summary>When the picture was taken, from the stream's own timestamps: rules and dedup run on this clock, never the wall clock.</summary>
    public DateTimeOffset CaptureTime { get; }

    public int Width { get; }
    public int Height { get; }
    public int Stride => Width * 3;

    /// <summary>The backing array (may be longer than the picture); for APIs that need an array.</summary>
    public byte[] Buffer => _pixels ?? throw new ObjectDisposedException(nameof(Frame));

    public Span<byte> Bgr => Buffer.AsSpan(0, Width * Height * 3);

    public void Dispose()
    {
        var p = Interlocked.Exchange(ref _pixels, null);
        if (p is not null) ArrayPool<byte>.Shared.Return(p);
    }
}
