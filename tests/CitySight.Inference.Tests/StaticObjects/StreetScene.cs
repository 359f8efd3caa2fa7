using CitySight.Tests;
using OpenCvSharp;

namespace CitySight.Inference.Tests.StaticObjects;

/// <summary>
/// Synthetic frames built on a real street background: the first frame of the parking-lot CCTV clip, with a patch cut
/// from another real picture (bus.jpg) pasted in as the "object". Every variation the tests need (noise, shift,
/// brightness, IR-like grey) is applied here, deterministically.
/// </summary>
internal sealed class StreetScene
{
    private static readonly Lazy<StreetScene> Shared = new(Load);

    private StreetScene(byte[] background, int width, int height, byte[] patch, int patchWidth, int patchHeight)
    {
        Background = background;
        Width = width;
        Height = height;
        Patch = patch;
        PatchWidth = patchWidth;
        PatchHeight = patchHeight;
    }

    public static StreetScene ParkingLot => Shared.Value;

    public byte[] Background { get; }
    public int Width { get; }
    public int Height { get; }
    public byte[] Patch { get; }
    public int PatchWidth { get; }
    public int PatchHeight { get; }

    /// <summary>Where a pasted object's top-left corner lands by default: on the ground, clear of the parked cars' rows.</summary>
    public (int X, int Y) Spot => (300, 330);

    public CitySight.Domain.Box ObjectBox(int x, int y) => new(x, y, x + PatchWidth, y + PatchHeight);

    /// <summary>One frame: the background, optionally with the object at (x, y), then the look applied.</summary>
    public byte[] Render(Look look = default)
    {
        var dst = new byte[Width * Height * 3];
        var stride = Width * 3;
        for (var y = 0; y < Height; y++)
        {
            // A shifted camera: the picture moves by (dx, dy), edges repeat.
            var sy = Math.Clamp(y - look.ShiftY, 0, Height - 1);
            for (var x = 0; x < Width; x++)
            {
                var sx = Math.Clamp(x - look.ShiftX, 0, Width - 1);
                var s = sy * stride + sx * 3;
                var d = y * stride + x * 3;
                dst[d] = Background[s];
                dst[d + 1] = Background[s + 1];
                dst[d + 2] = Background[s + 2];
            }
        }

        if (look.Object is { } at)
        {
            for (var y = 0; y < PatchHeight; y++)
                Patch.AsSpan(y * PatchWidth * 3, PatchWidth * 3).CopyTo(dst.AsSpan((at.Y + y) * stride + at.X * 3));
        }

        if (look.InfraRed)
        {
            // Night IR: monochrome, lit by the camera's own illuminator: the near field (bottom) bright, the far field
            // dark. The median hardly moves (auto-exposure), but most of the picture changes, unevenly.
            for (var y = 0; y < Height; y++)
            {
                var falloff = 0.45 + 1.3 * y / Height;
                for (var p = y * stride; p < (y + 1) * stride; p += 3)
                {
                    var v = (byte)Math.Clamp((0.114 * dst[p] + 0.587 * dst[p + 1] + 0.299 * dst[p + 2]) * falloff, 0, 255);
                    dst[p] = dst[p + 1] = dst[p + 2] = v;
                }
            }
        }

        if (look.Gain is not 0f and not 1f)
            for (var p = 0; p < dst.Length; p++) dst[p] = (byte)Math.Clamp(dst[p] * look.Gain, 0, 255);

        if (look.Noise > 0)
        {
            var rng = new Random(look.NoiseSeed);
            for (var p = 0; p < dst.Length; p++)
                dst[p] = (byte)Math.Clamp(dst[p] + rng.Next(-look.Noise, look.Noise + 1), 0, 255);
        }
        return dst;
    }

    private static StreetScene Load()
    {
        using var capture = new VideoCapture(TestAssets.Media("parking-lot-cctv-640x480.mp4"));
        using var first = new Mat();
        if (!capture.Read(first) || first.Empty())
            throw new InvalidOperationException("could not read the first frame of parking-lot-cctv-640x480.mp4");
        var background = ToBgr(first);

        using var bus = Cv2.ImRead(TestAssets.Media("bus.jpg"), ImreadModes.Color);
        // A piece of the bus's side and a passer-by: real texture, about the size of a pile of bags at that distance.
        using var cut = new Mat(bus, new Rect(60, 560, 240, 180));
        using var patch = new Mat();
        Cv2.Resize(cut, patch, new Size(80, 60), 0, 0, InterpolationFlags.Area);
        return new StreetScene(background, first.Width, first.Height, ToBgr(patch), patch.Width, patch.Height);
    }

    private static unsafe byte[] ToBgr(Mat m)
    {
        int width = m.Width, height = m.Height;
        var step = m.Step();
        var bytes = new byte[width * height * 3];
        var row = width * 3;
        for (var y = 0; y < height; y++)
            new ReadOnlySpan<byte>((byte*)m.Data + (long)y * step, row).CopyTo(bytes.AsSpan(y * row, row));
        return bytes;
    }
}

/// <summary>How one frame differs from the plain background.</summary>
internal readonly record struct Look(
    (int X, int Y)? Object = null,
    float Gain = 1f,
    int ShiftX = 0,
    int ShiftY = 0,
    int Noise = 0,
    int NoiseSeed = 0,
    bool InfraRed = false);
