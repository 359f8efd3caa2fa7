using System.Buffers;
using CitySight.Domain;
using OpenCvSharp;

namespace CitySight.Imaging;

/// <summary>
/// One camera's latest picture and when the next may be taken. <see cref="Offer"/> is called for every frame on the
/// camera's own producer (its reader loop, or a patrol visit): until the interval has passed it only compares two
/// numbers, so the per-frame path allocates nothing and takes no lock.
/// </summary>
public sealed class CameraPictureSlot
{
    private readonly CameraPictures _owner;
    private long _due = long.MinValue;
    private int _busy;
    private volatile CameraPicture? _picture;

    internal CameraPictureSlot(CameraPictures owner) => _owner = owner;

    /// <summary>The latest picture, or null before the first one.</summary>
    public CameraPicture? Picture => _picture;

    /// <summary>Takes the frame as the camera's picture when the interval has passed; true when it did. The frame stays the caller's.</summary>
    public bool Offer(Frame frame)
    {
        var now = _owner.Time.GetTimestamp();
        if (now < Volatile.Read(ref _due)) return false;
        // Two producers of one camera (a reload replacing its reader) never encode at once.
        if (Interlocked.Exchange(ref _busy, 1) == 1) return false;
        try
        {
            if (now < Volatile.Read(ref _due)) return false;
            Volatile.Write(ref _due, now + _owner.IntervalTicks);
            _picture = Encode(frame, _owner.MaxWidth, _owner.Quality);
            return true;
        }
        catch (Exception e) when (e is OpenCVException or ArgumentException or InvalidOperationException)
        {
            // A picture is a convenience for the console: a frame that cannot be encoded never stops its camera's reader.
            return false;
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private static unsafe CameraPicture Encode(Frame frame, int maxWidth, int quality)
    {
        var (width, height) = frame.Width <= maxWidth
            ? (frame.Width, frame.Height)
            : (maxWidth, Math.Max(1, (int)Math.Round((double)frame.Height * maxWidth / frame.Width)));
        // The scaled copy lives only while it is encoded: a pooled buffer, not one kept per camera (1,000 cameras
        // would hold 700 KB each).
        var scaled = width == frame.Width ? null : ArrayPool<byte>.Shared.Rent(width * height * 3);
        try
        {
            fixed (byte* src = frame.Buffer)
            fixed (byte* dst = scaled)
            {
                if (scaled is not null) AreaResize.Bgr(src, frame.Width, frame.Height, dst, width, height);
                using var mat = Mat.FromPixelData(height, width, MatType.CV_8UC3, (IntPtr)(scaled is null ? src : dst));
                Cv2.ImEncode(".jpg", mat, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, quality));
                return new CameraPicture(jpeg, frame.CaptureTime, width, height);
            }
        }
        finally
        {
            if (scaled is not null) ArrayPool<byte>.Shared.Return(scaled);
        }
    }
}
