using BenchmarkDotNet.Attributes;
using CitySight.Imaging;
using OpenCvSharp;

namespace CitySight.Benchmarks;

/// <summary>The model inputs preprocessing is measured for: what the shipped models take from a 1080p camera.</summary>
public enum PreprocessCase
{
    /// <summary>yolov8n: 640x640, centred letterbox.</summary>
    Letterbox640,

    /// <summary>640x640 ignoring aspect.</summary>
    Stretch640,

    /// <summary>yolox-nano: 416x416, picture top-left.</summary>
    TopLeft416,
}

/// <summary>
/// Letterbox + normalise a 1080p BGR frame into a CHW float tensor (per-frame preprocessing): the fused
/// <see cref="Letterboxer"/> against the former OpenCV path (Cv2.Resize into a canvas, then de-interleave),
/// measured in the same run so the ratio is like for like.
/// </summary>
[MemoryDiagnoser]
public class LetterboxBenchmarks
{
    private byte[] _frame = [];
    private float[] _tensor = [];
    private Letterboxer _letterboxer = null!;
    private OpenCvLetterboxBaseline _baseline = null!;

    [Params(PreprocessCase.Letterbox640, PreprocessCase.Stretch640, PreprocessCase.TopLeft416)]
    public PreprocessCase Case { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _frame = new byte[1920 * 1080 * 3];
        new Random(42).NextBytes(_frame);
        var spec = Case switch
        {
            PreprocessCase.Letterbox640 => new PreprocessSpec(640, 640, ResizeMode.Letterbox, ChannelOrder.Rgb, 1f / 255),
            PreprocessCase.Stretch640 => new PreprocessSpec(640, 640, ResizeMode.Stretch, ChannelOrder.Rgb, 1f / 255),
            _ => new PreprocessSpec(416, 416, ResizeMode.LetterboxTopLeft, ChannelOrder.Bgr, 1f),
        };
        _letterboxer = new Letterboxer(spec);
        _baseline = new OpenCvLetterboxBaseline(spec);
        _tensor = new float[spec.TensorLength];
    }

    [Benchmark(Baseline = true)]
    public LetterboxTransform OpenCv() => _baseline.Process(_frame, 1920, 1080, _tensor);

    [Benchmark]
    public LetterboxTransform Fused() => _letterboxer.Process(_frame, 1920, 1080, _tensor);

    [GlobalCleanup]
    public void Cleanup()
    {
        _letterboxer.Dispose();
        _baseline.Dispose();
    }
}

/// <summary>
/// The Letterboxer as it was before the fused pass, kept only as the benchmark baseline: Cv2.Resize into a
/// persistent canvas (padding painted once per source size), then a lookup-table de-interleave.
/// </summary>
internal sealed class OpenCvLetterboxBaseline : IDisposable
{
    private readonly PreprocessSpec _spec;
    private readonly Mat _canvas;
    private Mat? _roi;
    private LetterboxTransform _transform;

    public OpenCvLetterboxBaseline(PreprocessSpec spec)
    {
        _spec = spec;
        _canvas = new Mat(spec.Height, spec.Width, MatType.CV_8UC3, Scalar.All(spec.Pad));
    }

    public unsafe LetterboxTransform Process(ReadOnlySpan<byte> bgr, int width, int height, Span<float> chw)
    {
        if (_roi is null || _transform.SourceWidth != width || _transform.SourceHeight != height)
        {
            _transform = LetterboxTransform.Create(width, height, _spec.Width, _spec.Height, _spec.Resize);
            _canvas.SetTo(Scalar.All(_spec.Pad));
            _roi?.Dispose();
            _roi = new Mat(_canvas, new Rect(_transform.PadLeft, _transform.PadTop, _transform.ResizedWidth, _transform.ResizedHeight));
        }

        fixed (byte* p = bgr)
        {
            using var src = Mat.FromPixelData(height, width, MatType.CV_8UC3, (IntPtr)p);
            if (_transform.ResizedWidth == width && _transform.ResizedHeight == height)
                src.CopyTo(_roi);
            else
                Cv2.Resize(src, _roi, new Size(_transform.ResizedWidth, _transform.ResizedHeight), 0, 0, InterpolationFlags.Linear);
        }

        var pixels = new ReadOnlySpan<byte>((void*)_canvas.Data, _spec.TensorLength);
        Letterboxer.WriteChw(pixels, chw, _spec.Channels, _spec.Scale);
        return _transform;
    }

    public void Dispose()
    {
        _roi?.Dispose();
        _canvas.Dispose();
    }
}
