namespace CitySight.Inference;

/// <summary>
/// FastestDet head: [1, 5+C, gh, gw], channel-major. Channel 0 objectness (sigmoid-ed), 1–2 the centre's
/// offset from the cell corner, 3–4 width and height as a fraction of the input, 5.. class scores
/// (softmax-ed). Channels 1–4 are raw in the ONNX export (values beyond ±1 seen), so this decoder applies
/// tanh to the offsets and sigmoid to the sizes, as the FastestDet reference post-processing does.
/// score = obj^0.6 · cls^0.4 (best class).
/// </summary>
public sealed class FastestDetDecoder : IOutputDecoder
{
    private const float ObjPower = 0.6f;
    private const float ClsPower = 0.4f;

    private readonly float[] _best;
    private readonly int[] _bestClass;

    public FastestDetDecoder(int classCount, int gridWidth, int gridHeight, int inputWidth, int inputHeight)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gridWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gridHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputHeight);
        ClassCount = classCount;
        GridWidth = gridWidth;
        GridHeight = gridHeight;
        InputWidth = inputWidth;
        InputHeight = inputHeight;
        _best = new float[gridWidth * gridHeight];
        _bestClass = new int[gridWidth * gridHeight];
    }

    public OutputLayout Layout => OutputLayout.FastestDet;
    public bool IncludesNms => false;
    public int ClassCount { get; }
    public int GridWidth { get; }
    public int GridHeight { get; }
    public int InputWidth { get; }
    public int InputHeight { get; }
    public int OutputLength => (5 + ClassCount) * GridWidth * GridHeight;

    public void Decode(ReadOnlySpan<float> output, float minScore, List<Candidate> into)
    {
        if (output.Length < OutputLength)
            throw DecoderMath.ShortOutput(output.Length, OutputLength, $"[1,{5 + ClassCount},{GridHeight},{GridWidth}]");
        var n = GridWidth * GridHeight;
        var best = _best.AsSpan();
        var bestClass = _bestClass.AsSpan();
        output.Slice(5 * n, n).CopyTo(best);
        bestClass.Clear();
        for (var c = 1; c < ClassCount; c++)
            DecoderMath.KeepBest(output.Slice((5 + c) * n, n), c, best, bestClass);

        // cls <= 1 bounds the score by obj^0.6: skip a cell on obj alone before any Pow.
        var minObj = minScore <= 0 ? 0f : MathF.Pow(minScore, 1f / ObjPower);
        var obj = output[..n];
        var tx = output.Slice(n, n);
        var ty = output.Slice(2 * n, n);
        var tw = output.Slice(3 * n, n);
        var th = output.Slice(4 * n, n);
        float sx = (float)InputWidth / GridWidth, sy = (float)InputHeight / GridHeight;
        for (var i = 0; i < n; i++)
        {
            if (obj[i] <= minObj || best[i] <= 0) continue;
            var score = MathF.Pow(obj[i], ObjPower) * MathF.Pow(best[i], ClsPower);
            if (score <= minScore) continue;
            var gy = i / GridWidth;
            var gx = i - gy * GridWidth;
            var cx = (MathF.Tanh(tx[i]) + gx) * sx;
            var cy = (MathF.Tanh(ty[i]) + gy) * sy;
            var w = Sigmoid(tw[i]) * InputWidth;
            var h = Sigmoid(th[i]) * InputHeight;
            into.Add(new Candidate(bestClass[i], score, DecoderMath.FromCentre(cx, cy, w, h)));
        }
    }

    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));
}
