using BenchmarkDotNet.Attributes;
using CitySight.Domain;
using CitySight.Imaging;
using CitySight.Tests;
using OpenCvSharp;

namespace CitySight.Benchmarks;

/// <summary>
/// Evidence pictures: the per-frame scene reference (<see cref="EvidenceImage.Downscale"/> 1920x1080 → 480x270, against
/// the same resize through OpenCvSharp's Mat wrappers) and the per-case pictures on bus.jpg scaled to 1920x1080.
/// </summary>
[MemoryDiagnoser]
public class EvidenceBenchmarks
{
    private const int Width = 1920, Height = 1080, SmallWidth = 480, SmallHeight = 270;
    private byte[] _frame = [];
    private readonly byte[] _small = new byte[SmallWidth * SmallHeight * 3];
    private EvidenceSketch _sketch = EvidenceSketch.Empty;

    [GlobalSetup]
    public void Setup()
    {
        using var bus = EvidenceImage.LoadFrame(TestAssets.Media("bus.jpg"), "bench");
        _frame = new byte[Width * Height * 3];
        EvidenceImage.Downscale(bus.Bgr, bus.Width, bus.Height, _frame, Width, Height);
        EvidenceImage.Downscale(_frame, Width, Height, _small, SmallWidth, SmallHeight);
        _sketch = new EvidenceSketch(
            [[new(0.02, 0.70), new(0.98, 0.66), new(0.98, 0.98), new(0.02, 0.98)]],
            [(new Box(40, 230, 1880, 760), "机动车乱停放 bus 0.87"), (new Box(110, 400, 590, 900), "行人 person 0.90")],
            ["机动车乱停放 Illegal parking", "东门路口 North gate · cam-12", "2026-12-07 14:03:21 (Asia/Shanghai)"]);
    }

    [Benchmark(Baseline = true)]
    public unsafe void DownscaleMatWrappers()
    {
        fixed (byte* s = _frame)
        fixed (byte* d = _small)
        {
            using var src = Mat.FromPixelData(Height, Width, MatType.CV_8UC3, (IntPtr)s);
            using var dst = Mat.FromPixelData(SmallHeight, SmallWidth, MatType.CV_8UC3, (IntPtr)d);
            Cv2.Resize(src, dst, new Size(SmallWidth, SmallHeight), 0, 0, InterpolationFlags.Area);
        }
    }

    [Benchmark]
    public void Downscale() => EvidenceImage.Downscale(_frame, Width, Height, _small, SmallWidth, SmallHeight);

    [Benchmark]
    public byte[] EncodeCaseJpeg() => EvidenceImage.EncodeCaseJpeg(_frame, Width, Height, _sketch);

    [Benchmark]
    public byte[] EncodePairJpeg() => EvidenceImage.EncodePairJpeg(
        _small, SmallWidth, SmallHeight, _frame, Width, Height, _sketch, "之前 before 14:01:10", "之后 after 14:13:40");
}
