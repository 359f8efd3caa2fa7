using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using OpenCvSharp;
using SkiaSharp;

namespace CitySight.Imaging;

/// <summary>
/// A BGRA picture that both Skia (drawing, text) and OpenCV (colour conversion, scaling, JPEG) work on in place:
/// Skia's Bgra8888 has OpenCV's BGRA byte order, so neither needs a copy in the other's layout.
/// <para>
/// Its pixels (and a scaled view's) live in managed arrays kept for reuse, never in native memory: a canvas is
/// megabytes (9 MB for a captioned 1080p frame) and is drawn on whichever pool thread raises the case. Natively
/// allocated, each such buffer went to that thread's glibc arena, and once freed stayed there as the arena's high-water
/// mark (glibc only gives back an arena's top, and a freed big chunk raises its own mmap threshold so the next ones come
/// from the arenas too): resident memory stepped up with every new thread that drew evidence (issue 14). They come from
/// <see cref="PixelBuffers"/>, pinned once, rather than ArrayPool, whose per-thread slots would keep one per thread again.
/// </para>
/// </summary>
internal sealed unsafe class EvidenceCanvas : IDisposable
{
    private readonly byte[] _pixels;
    private readonly int _width;
    private readonly int _height;
    private readonly SKBitmap _bitmap;
    private bool _released;

    public EvidenceCanvas(int width, int height)
    {
        var info = new SKImageInfo(width, height, SKColorType.Bgra8888, SKAlphaType.Opaque);
        _width = width;
        _height = height;
        _pixels = PixelBuffers.Canvas.Take(info.BytesSize);
        _bitmap = new SKBitmap();
        if (!_bitmap.InstallPixels(info, Address, info.RowBytes))
        {
            Release();
            throw new InvalidOperationException($"Skia refused a {width}x{height} canvas");
        }
        Canvas = new SKCanvas(_bitmap);
        // A reused array holds whatever its last user left: nothing of an earlier picture may show through.
        Canvas.Clear(SKColors.Black);
    }

    public SKCanvas Canvas { get; }

    /// <summary>
    /// Puts a BGR frame into <paramref name="place"/>, scaled to its size when it differs (area averaging down, so fine
    /// detail does not alias; bilinear up).
    /// </summary>
    public void PutFrame(ReadOnlySpan<byte> bgr, int width, int height, Rect place)
    {
        Canvas.Flush();
        fixed (byte* p = bgr)
        {
            using var frame = Mat.FromPixelData(height, width, MatType.CV_8UC3, (IntPtr)p);
            using var all = Pixels();
            using var target = new Mat(all, place);
            if (place.Width == width && place.Height == height)
            {
                Cv2.CvtColor(frame, target, ColorConversionCodes.BGR2BGRA);
                return;
            }
            // The scaled view in a pooled array too: a header of the right size and type, so OpenCV writes into it.
            var scaledBytes = PixelBuffers.Scaled.Take(place.Width * place.Height * 3);
            try
            {
                fixed (byte* s = scaledBytes)
                {
                    using var scaled = Mat.FromPixelData(place.Height, place.Width, MatType.CV_8UC3, (IntPtr)s);
                    var downwards = place.Width < width;
                    Cv2.Resize(frame, scaled, place.Size, 0, 0, downwards ? InterpolationFlags.Area : InterpolationFlags.Linear);
                    Cv2.CvtColor(scaled, target, ColorConversionCodes.BGR2BGRA);
                }
            }
            finally
            {
                PixelBuffers.Scaled.Give(scaledBytes);
            }
        }
    }

    /// <summary>The picture as JPEG (OpenCV's encoder drops the alpha channel).</summary>
    public byte[] EncodeJpeg(int quality)
    {
        Canvas.Flush();
        using var all = Pixels();
        Cv2.ImEncode(".jpg", all, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, quality));
        return jpeg;
    }

    private Mat Pixels() =>
        Mat.FromPixelData(_height, _width, MatType.CV_8UC4, Address, _width * 4L);

    // Allocated pinned (the pinned object heap): the address holds for the array's life.
    private IntPtr Address => (IntPtr)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_pixels));

    public void Dispose()
    {
        Canvas.Dispose();
        Release();
    }

    private void Release()
    {
        _bitmap.Dispose();
        if (_released) return;
        _released = true;
        PixelBuffers.Canvas.Give(_pixels);
    }
}
