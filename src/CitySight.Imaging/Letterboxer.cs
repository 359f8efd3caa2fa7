using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CitySight.Imaging;

/// <summary>
/// Fits BGR24 frames into a model input and writes the CHW float tensor: a bilinear resize (OpenCV INTER_LINEAR's
/// sample positions and 11-bit horizontal weights), the scale and the de-interleave fused in one single-threaded
/// pass, padding included. Allocates nothing per frame: its tables are sized for the model input once and refilled
/// when the source size changes. Not thread-safe: one per detector.
/// </summary>
public sealed class Letterboxer : IDisposable
{
    // Per output column: byte offsets (x*3) of the two source pixels, and their weights in 11-bit fixed point
    // (OpenCV's INTER_RESIZE_COEF_BITS) packed as two int16 (w0 | w1 << 16), the operand layout of pmaddwd.
    private readonly int[] _x0;
    private readonly int[] _x1;
    private readonly int[] _wx;
    // Per output row: the two source rows and the weight of the second.
    private readonly int[] _y0;
    private readonly int[] _y1;
    private readonly float[] _fy;
    // Output columns the 8-wide loop takes (a multiple of 8); whether every column sits on a source pixel.
    private int _vectorColumns;
    private bool _horizontalExact;
    private LetterboxTransform _transform;
    private bool _prepared;
    private bool _disposed;

    public Letterboxer(PreprocessSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(spec.Width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(spec.Height);
        Spec = spec;
        _x0 = new int[spec.Width];
        _x1 = new int[spec.Width];
        _wx = new int[spec.Width];
        _y0 = new int[spec.Height];
        _y1 = new int[spec.Height];
        _fy = new float[spec.Height];
    }

    public PreprocessSpec Spec { get; }

    /// <summary>Floats <see cref="Process"/> writes: 3 x Width x Height.</summary>
    public int TensorLength => Spec.TensorLength;

    /// <summary>
    /// Resizes/pads <paramref name="bgr"/> (width x height, BGR24, tightly packed) into the model input and
    /// writes it to <paramref name="chw"/> as planar floats. Every one of the first <see cref="TensorLength"/>
    /// floats is written, padding included, so <paramref name="chw"/> can be one slot of a batch tensor
    /// (<c>tensor.AsSpan(slot * TensorLength, TensorLength)</c>) holding anything before. Returns how to map
    /// model boxes back.
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

        if (!_prepared || _transform.SourceWidth != width || _transform.SourceHeight != height)
            Prepare(width, height);

        var t = _transform;
        int mw = Spec.Width, mh = Spec.Height, plane = mw * mh;
        int rw = t.ResizedWidth, rh = t.ResizedHeight, left = t.PadLeft, top = t.PadTop;
        var scale = Spec.Scale;
        var pad = Spec.Pad * scale; // the same product the old lookup table held: bit-identical padding

        var planes = chw[..TensorLength];
        // Whole pad rows above and below, every plane.
        for (var p = 0; p < 3; p++)
        {
            planes.Slice(p * plane, top * mw).Fill(pad);
            planes.Slice(p * plane + (top + rh) * mw, (mh - top - rh) * mw).Fill(pad);
        }

        var rowLength = width * 3;
        fixed (byte* src = bgr)
        fixed (float* dst = planes)
        fixed (int* x0 = _x0, x1 = _x1, wx = _wx)
        {
            // Planes by source channel (B, G, R): RGB order puts R first.
            float* pb, pg, pr;
            if (Spec.Channels == ChannelOrder.Bgr) { pb = dst; pg = dst + plane; pr = dst + 2 * plane; }
            else { pr = dst; pg = dst + plane; pb = dst + 2 * plane; }

            var columns = new Columns(x0, x1, wx, rw, _vectorColumns, _horizontalExact);
            var right = mw - left - rw;
            for (var y = 0; y < rh; y++)
            {
                var offset = (top + y) * mw;
                if (left > 0)
                {
                    new Span<float>(pb + offset, left).Fill(pad);
                    new Span<float>(pg + offset, left).Fill(pad);
                    new Span<float>(pr + offset, left).Fill(pad);
                }
                if (right > 0)
                {
                    new Span<float>(pb + offset + left + rw, right).Fill(pad);
                    new Span<float>(pg + offset + left + rw, right).Fill(pad);
                    new Span<float>(pr + offset + left + rw, right).Fill(pad);
                }
                offset += left;
                var fy = _fy[y];
                ResizeRow(in columns, src + (long)_y0[y] * rowLength, src + (long)_y1[y] * rowLength,
                    (1f - fy) * scale, fy * scale, pb + offset, pg + offset, pr + offset);
            }
        }
        return t;
    }

    private void Prepare(int width, int height)
    {
        _prepared = false;
        _transform = LetterboxTransform.Create(width, height, Spec.Width, Spec.Height, Spec.Resize);
        var rw = _transform.ResizedWidth;
        _horizontalExact = true;
        int fourByteSafe = 0, eightByteSafe = 0;
        for (var dx = 0; dx < rw; dx++)
        {
            var (s, f, s1) = SourceCoordinate(dx, width, rw);
            var w1 = (int)MathF.Round(f * Unit);
            _x0[dx] = s * 3;
            _x1[dx] = s1 * 3;
            _wx[dx] = (Unit - w1) | (w1 << 16);
            _horizontalExact &= w1 == 0;
            // The vector loop loads 4 bytes per pixel (8 with both taps): near the end of the frame's last row
            // that would read past the buffer, so those columns go to the scalar tail.
            if (s * 3 + 4 <= width * 3) fourByteSafe = dx + 1;
            if (s * 3 + 8 <= width * 3) eightByteSafe = dx + 1;
        }
        _vectorColumns = (_horizontalExact ? fourByteSafe : eightByteSafe) & ~7;
        var rh = _transform.ResizedHeight;
        for (var dy = 0; dy < rh; dy++)
            (_y0[dy], _fy[dy], _y1[dy]) = SourceCoordinate(dy, height, rh);
        _prepared = true;
    }

    /// <summary>
    /// OpenCV INTER_LINEAR's sample position: pixel centres aligned, sx = (dx + 0.5) * src/dst - 0.5, computed the
    /// way resize.cpp does (double scale, float position); clamped at the edges with a zero weight.
    /// </summary>
    private static (int S0, float F, int S1) SourceCoordinate(int d, int sourceSize, int resizedSize)
    {
        var scaleBack = 1.0 / ((double)resizedSize / sourceSize);
        var f = (float)((d + 0.5) * scaleBack - 0.5);
        var s = (int)MathF.Floor(f);
        f -= s;
        if (s < 0) { s = 0; f = 0; }
        if (s >= sourceSize - 1) { s = sourceSize - 1; f = 0; }
        return (s, f, Math.Min(s + 1, sourceSize - 1));
    }

    private const int Unit = 1 << 11;

    private readonly unsafe struct Columns(int* x0, int* x1, int* wx, int count, int vectorCount, bool exact)
    {
        public readonly int* X0 = x0, X1 = x1, Wx = wx;
        public readonly int Count = count, VectorCount = vectorCount;
        public readonly bool Exact = exact;
    }

    /// <summary>
    /// One output row: bilinear from source rows <paramref name="r0"/> and <paramref name="r1"/> (weights wy0, wy1
    /// with the scale folded in), written straight into the three planes. Taps with a zero weight are skipped,
    /// and pixels that fall on a source pixel come out exactly as byte * scale.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ResizeRow(in Columns c, byte* r0, byte* r1, float wy0, float wy1, float* pb, float* pg, float* pr)
    {
        var i = 0;
        var twoRows = wy1 != 0f;
        // Horizontal sums carry the 11-bit weights: 1/2048 is a power of two, so folding it in loses nothing.
        float k0 = wy0 / Unit, k1 = wy1 / Unit;
        if (Avx2.IsSupported && Fma.IsSupported)
        {
            // Loads of each pixel's bytes, not vpgatherdd: plain loads are about 2x faster on the AMD cores this
            // runs on. pshufb masks pick a channel; 0x80 (and 0x81, 0x82 after the adds) zero a byte.
            var w0 = Vector256.Create(wy0);
            var w1 = Vector256.Create(wy1);
            if (c.Exact)
            {
                // Every column on a source pixel (1920 -> 640 is 3:1): one 4-byte load per pixel and row.
                var mb = Vector256.Create(0, 0x80, 0x80, 0x80, 4, 0x80, 0x80, 0x80, 8, 0x80, 0x80, 0x80, 12, 0x80, 0x80, 0x80,
                                          0, 0x80, 0x80, 0x80, 4, 0x80, 0x80, 0x80, 8, 0x80, 0x80, 0x80, 12, 0x80, 0x80, 0x80).AsByte();
                var mg = Avx2.Add(mb, Vector256<byte>.One);
                var mr = Avx2.Add(mg, Vector256<byte>.One);
                for (; i < c.VectorCount; i += 8)
                {
                    var t0 = Load4(r0, c.X0 + i);
                    if (twoRows)
                    {
                        var t1 = Load4(r1, c.X0 + i);
                        Avx.Store(pb + i, Fma.MultiplyAdd(Channel(t1, mb), w1, Avx.Multiply(Channel(t0, mb), w0)));
                        Avx.Store(pg + i, Fma.MultiplyAdd(Channel(t1, mg), w1, Avx.Multiply(Channel(t0, mg), w0)));
                        Avx.Store(pr + i, Fma.MultiplyAdd(Channel(t1, mr), w1, Avx.Multiply(Channel(t0, mr), w0)));
                    }
                    else
                    {
                        Avx.Store(pb + i, Avx.Multiply(Channel(t0, mb), w0));
                        Avx.Store(pg + i, Avx.Multiply(Channel(t0, mg), w0));
                        Avx.Store(pr + i, Avx.Multiply(Channel(t0, mr), w0));
                    }
                }
            }
            else
            {
                // One 8-byte load per pixel and row holds both taps (x and x + 1); the masks pair tap bytes as
                // int16 and pmaddwd applies the two weights at once.
                var mb = Vector256.Create(0, 0x80, 3, 0x80, 8, 0x80, 11, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                          0, 0x80, 3, 0x80, 8, 0x80, 11, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80).AsByte();
                var mg = Avx2.Add(mb, Vector256<byte>.One);
                var mr = Avx2.Add(mg, Vector256<byte>.One);
                var vk0 = Vector256.Create(k0);
                var vk1 = Vector256.Create(k1);
                for (; i < c.VectorCount; i += 8)
                {
                    var wx = Avx.LoadVector256(c.Wx + i).AsInt16();
                    var x = c.X0 + i;
                    // Pixels 0,1 | 4,5 and 2,3 | 6,7, so that unpacking the low halves restores 0..3 | 4..7.
                    var a0 = Load8(r0, x[0], x[1], x[4], x[5]);
                    var b0 = Load8(r0, x[2], x[3], x[6], x[7]);
                    if (twoRows)
                    {
                        var a1 = Load8(r1, x[0], x[1], x[4], x[5]);
                        var b1 = Load8(r1, x[2], x[3], x[6], x[7]);
                        Avx.Store(pb + i, Fma.MultiplyAdd(Taps(a1, b1, mb, wx), vk1, Avx.Multiply(Taps(a0, b0, mb, wx), vk0)));
                        Avx.Store(pg + i, Fma.MultiplyAdd(Taps(a1, b1, mg, wx), vk1, Avx.Multiply(Taps(a0, b0, mg, wx), vk0)));
                        Avx.Store(pr + i, Fma.MultiplyAdd(Taps(a1, b1, mr, wx), vk1, Avx.Multiply(Taps(a0, b0, mr, wx), vk0)));
                    }
                    else
                    {
                        Avx.Store(pb + i, Avx.Multiply(Taps(a0, b0, mb, wx), vk0));
                        Avx.Store(pg + i, Avx.Multiply(Taps(a0, b0, mg, wx), vk0));
                        Avx.Store(pr + i, Avx.Multiply(Taps(a0, b0, mr, wx), vk0));
                    }
                }
            }
        }
        for (; i < c.Count; i++)
        {
            byte* a = r0 + c.X0[i], b = r0 + c.X1[i], d = r1 + c.X0[i], e = r1 + c.X1[i];
            int wa = (short)c.Wx[i], wb = c.Wx[i] >> 16;
            pb[i] = Scalar(a[0], b[0], d[0], e[0], wa, wb, k0, k1);
            pg[i] = Scalar(a[1], b[1], d[1], e[1], wa, wb, k0, k1);
            pr[i] = Scalar(a[2], b[2], d[2], e[2], wa, wb, k0, k1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<byte> Load4(byte* row, int* x) =>
        Vector256.Create(*(int*)(row + x[0]), *(int*)(row + x[1]), *(int*)(row + x[2]), *(int*)(row + x[3]),
                         *(int*)(row + x[4]), *(int*)(row + x[5]), *(int*)(row + x[6]), *(int*)(row + x[7])).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<byte> Load8(byte* row, int x0, int x1, int x2, int x3) =>
        Vector256.Create(*(long*)(row + x0), *(long*)(row + x1), *(long*)(row + x2), *(long*)(row + x3)).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Channel(Vector256<byte> taps, Vector256<byte> mask) =>
        Avx.ConvertToVector256Single(Avx2.Shuffle(taps, mask).AsInt32());

    // tap0 * w0 + tap1 * w1 of one channel for 8 pixels, as floats (x 2048).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Taps(Vector256<byte> a, Vector256<byte> b, Vector256<byte> mask, Vector256<short> wx)
    {
        var pairs = Avx2.UnpackLow(Avx2.Shuffle(a, mask).AsInt64(), Avx2.Shuffle(b, mask).AsInt64()).AsInt16();
        return Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(pairs, wx));
    }

    // The vector path's sums (unfused here), for the columns past the last full vector.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Scalar(byte a, byte b, byte d, byte e, int wa, int wb, float k0, float k1)
    {
        var h0 = (float)(a * wa + b * wb);
        if (k1 == 0f) return h0 * k0;
        return (d * wa + e * wb) * k1 + h0 * k0;
    }

    /// <summary>
    /// A model-input tensor (as <see cref="Process"/> wrote it) back to a BGR24 image of Width x Height, rounded to
    /// bytes; for debugging and tests.
    /// </summary>
    public byte[] ToInputImage(ReadOnlySpan<float> chw)
    {
        if (chw.Length < TensorLength)
            throw new ArgumentException($"tensor span has {chw.Length} floats, needs {TensorLength}", nameof(chw));
        var n = Spec.Width * Spec.Height;
        var bytes = new byte[3 * n];
        int b = Spec.Channels == ChannelOrder.Bgr ? 0 : 2 * n, g = n, r = Spec.Channels == ChannelOrder.Bgr ? 2 * n : 0;
        for (var i = 0; i < n; i++)
        {
            bytes[3 * i] = ToByte(chw[b + i]);
            bytes[3 * i + 1] = ToByte(chw[g + i]);
            bytes[3 * i + 2] = ToByte(chw[r + i]);
        }
        return bytes;

        byte ToByte(float v) => (byte)Math.Clamp(MathF.Round(v / Spec.Scale), 0, 255);
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

    /// <summary>Holds no native resources any more; kept so callers' using/Dispose stay valid.</summary>
    public void Dispose() => _disposed = true;
}
