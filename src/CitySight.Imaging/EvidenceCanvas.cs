using OpenCvSharp;
using SkiaSharp;

namespace CitySight.Imaging;

/// <summary>
/// A BGRA picture that both Skia (drawing, text) and OpenCV (colour conversion, scaling, JPEG) work on in place:
/// Skia's Bgra8888 has OpenCV's BGRA byte order, so neither needs a copy in the other's layout.
/// </summary>
internal sealed unsafe class EvidenceCanvas : IDisposable
{
    private readonly SKBitmap _bitmap;

    public EvidenceCanvas(int width, int height)
    {
        _bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Bgra8888, SKAlphaType.Opaque));
        Canvas = new SKCanvas(_bitmap);
    }

    public SKCanvas Canvas { get; }

    /// <summary>
    /// Puts a BGR frame into <paramref name="place"/>, scaled to its size when it differs (area averaging down, so fine
    /// detail does not alias; bilinear up).
    /// </summary>
    public void PutFrame(ReadOnlySpan<byte> bgr, int width, int height, Rect place)
    {
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
            using var scaled = new Mat();
            var downwards = place.Width < width;
            Cv2.Resize(frame, scaled, place.Size, 0, 0, downwards ? InterpolationFlags.Area : InterpolationFlags.Linear);
            Cv2.CvtColor(scaled, target, ColorConversionCodes.BGR2BGRA);
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
        Mat.FromPixelData(_bitmap.Height, _bitmap.Width, MatType.CV_8UC4, _bitmap.GetPixels(), _bitmap.RowBytes);

    public void Dispose()
    {
        Canvas.Dispose();
        _bitmap.Dispose();
    }
}
