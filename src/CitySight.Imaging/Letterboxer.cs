using OpenCvSharp;

namespace CitySight.Imaging;

/// <summary>
/// Fits BGR24 frames into a model input and writes the CHW float tensor. Keeps its canvas between calls, so
/// a stream of same-sized frames costs no buffer allocations. Not thread-safe: one per detector.
/// </summary>
public sealed class Letterboxer : IDisposable
{
    private readonly Mat _canvas;
    private Mat? _roi;
    private LetterboxTransform _transform;
    private bool _disposed;

    public Letterboxer(PreprocessSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(spec.Width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(spec.Height);
        Spec = spec;
        _canvas = new Mat(spec.Height, spec.Width, MatType.CV_8UC3, Scalar.All(spec.Pad));
    }

    public PreprocessSpec Spec { get; }

    /// <summary>Floats <see cref="Process"/> writes: 3 x Width x Height.</summary>
    public int TensorLength => Spec.TensorLength;

    /// <summary>
    /// Resizes/pads <paramref name="bgr"/> (width x height, BGR24, tightly packed) into the model input and
    /// writes it to <paramref name="chw"/> as planar floats. Returns how to map model boxes back.
    /// </summary>
    public unsafe LetterboxTransform Process(ReadOnlySpan<byte> bgr, int width, int height, Span<float> chw)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (bgr.Length < width * height * 3)
            throw new ArgumentException($"BGR buffer has {bgr.Length} bytes, a {width}x{height} frame needs {width * height * 3}", nameof(bgr));
        if (chw.Length < TensorLength)
            throw new ArgumentException($"tensor span has {chw.Length} floats, needs {TensorLength}", nameof(chw));

        if (_roi is null || _transform.SourceWidth != width || _transform.SourceHeight != height)
            Prepare(width, height);

        fixed (byte* p = bgr)
        {
            using var src = Mat.FromPixelData(height, width, MatType.CV_8UC3, (IntPtr)p);
            if (_transform.ResizedWidth == width && _transform.ResizedHeight == height)
                src.CopyTo(_roi!);
            else
                Cv2.Resize(src, _roi!, new Size(_transform.ResizedWidth, _transform.ResizedHeight), 0, 0, InterpolationFlags.Linear);
        }

        var pixels = new ReadOnlySpan<byte>((void*)_canvas.Data, TensorLength);
        WriteChw(pixels, chw, Spec.Channels, Spec.Scale);
        return _transform;
    }

    /// <summary>The model-input image (BGR24) of the last <see cref="Process"/> call, copied; for debugging and tests.</summary>
    public byte[] LastInputImage()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var bytes = new byte[TensorLength];
        unsafe { new ReadOnlySpan<byte>((void*)_canvas.Data, bytes.Length).CopyTo(bytes); }
        return bytes;
    }

    private void Prepare(int width, int height)
    {
        _transform = LetterboxTransform.Create(width, height, Spec.Width, Spec.Height, Spec.Resize);
        // The resize only ever overwrites the ROI, so the padding is painted once per source size.
        _canvas.SetTo(Scalar.All(Spec.Pad));
        _roi?.Dispose();
        _roi = new Mat(_canvas, new Rect(_transform.PadLeft, _transform.PadTop, _transform.ResizedWidth, _transform.ResizedHeight));
    }

    /// <summary>
    /// Interleaved BGR24 bytes to planar CHW floats times <paramref name="scale"/>; RGB order swaps planes 0 and 2.
    /// <paramref name="chw"/> must hold 3 x (pixel count) floats where pixel count = bgr.Length / 3.
    /// </summary>
    public static unsafe void WriteChw(ReadOnlySpan<byte> bgr, Span<float> chw, ChannelOrder order, float scale)
    {
        var n = bgr.Length / 3;
        if (chw.Length < 3 * n)
            throw new ArgumentException($"tensor span has {chw.Length} floats, needs {3 * n}", nameof(chw));

        // A byte has 256 values: a lookup beats convert-and-multiply per sample.
        var lut = stackalloc float[256];
        for (var i = 0; i < 256; i++) lut[i] = i * scale;

        fixed (byte* src = bgr)
        fixed (float* dst = chw)
        {
            var b = order == ChannelOrder.Bgr ? dst : dst + 2 * n;
            var g = dst + n;
            var r = order == ChannelOrder.Bgr ? dst + 2 * n : dst;
            var s = src;
            for (var i = 0; i < n; i++, s += 3)
            {
                b[i] = lut[s[0]];
                g[i] = lut[s[1]];
                r[i] = lut[s[2]];
            }
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _roi?.Dispose();
        _canvas.Dispose();
    }
}
