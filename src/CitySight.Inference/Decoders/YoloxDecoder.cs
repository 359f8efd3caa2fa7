namespace CitySight.Inference;

/// <summary>
/// YOLOX raw head (exported without decode_in_inference): [1, N, 5+C], one row per grid cell of strides
/// 8, 16, 32 in turn (row-major within a stride). Per row x, y, w, h (grid units, w/h as logs),
/// objectness and C class scores, both already sigmoid-ed. cx = (x + gx)·s, w = exp(w)·s; score = obj·cls.
/// </summary>
public sealed class YoloxDecoder : IOutputDecoder
{
    public static readonly IReadOnlyList<int> DefaultStrides = [8, 16, 32];

    // Per row: its cell's grid x, grid y and stride, so Decode does no index arithmetic.
    private readonly float[] _gridX;
    private readonly float[] _gridY;
    private readonly float[] _stride;

    public YoloxDecoder(int classCount, int inputWidth, int inputHeight, IReadOnlyList<int>? strides = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputHeight);
        strides ??= DefaultStrides;
        ClassCount = classCount;
        InputWidth = inputWidth;
        InputHeight = inputHeight;
        Strides = strides.ToArray();
        RowCount = CellCount(inputWidth, inputHeight, Strides);
        if (RowCount == 0)
            throw new ArgumentException($"a {inputWidth}x{inputHeight} input has no grid cells at strides {string.Join("/", Strides)}");

        _gridX = new float[RowCount];
        _gridY = new float[RowCount];
        _stride = new float[RowCount];
        var i = 0;
        foreach (var s in Strides)
        {
            int gw = inputWidth / s, gh = inputHeight / s;
            for (var gy = 0; gy < gh; gy++)
            {
                for (var gx = 0; gx < gw; gx++, i++)
                {
                    _gridX[i] = gx;
                    _gridY[i] = gy;
                    _stride[i] = s;
                }
            }
        }
    }

    public OutputLayout Layout => OutputLayout.Yolox;
    public bool IncludesNms => false;
    public int ClassCount { get; }
    public int InputWidth { get; }
    public int InputHeight { get; }
    public IReadOnlyList<int> Strides { get; }

    /// <summary>N: grid cells over all strides (3549 for 416x416).</summary>
    public int RowCount { get; }

    public int OutputLength => (5 + ClassCount) * RowCount;

    /// <summary>Σ (W/s)·(H/s) over <paramref name="strides"/>.</summary>
    public static int CellCount(int inputWidth, int inputHeight, IReadOnlyList<int> strides)
    {
        var n = 0;
        foreach (var s in strides)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(s);
            n += inputWidth / s * (inputHeight / s);
        }
        return n;
    }

    public void Decode(ReadOnlySpan<float> output, float minScore, List<Candidate> into)
    {
        if (output.Length < OutputLength)
            throw DecoderMath.ShortOutput(output.Length, OutputLength, $"[1,{RowCount},{5 + ClassCount}]");
        var width = 5 + ClassCount;
        for (var r = 0; r < RowCount; r++)
        {
            var row = output.Slice(r * width, width);
            var obj = row[4];
            // Sigmoid-ed class scores are at most 1, so obj bounds the final score.
            if (obj <= minScore) continue;
            var cls = DecoderMath.ArgMax(row[5..], out var clsScore);
            var score = obj * clsScore;
            if (score <= minScore) continue;
            var s = _stride[r];
            var cx = (row[0] + _gridX[r]) * s;
            var cy = (row[1] + _gridY[r]) * s;
            var w = MathF.Exp(row[2]) * s;
            var h = MathF.Exp(row[3]) * s;
            into.Add(new Candidate(cls, score, DecoderMath.FromCentre(cx, cy, w, h)));
        }
    }
}
