namespace CitySight.Inference;

/// <summary>YOLOv8 / YOLO11 raw head: [1, 4+C, N], channel-major (all N cx, then all N cy, ...).</summary>
public sealed class YoloV8Decoder : IOutputDecoder
{
    private readonly float[] _best;
    private readonly int[] _bestClass;

    public YoloV8Decoder(int classCount, int anchorCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(anchorCount);
        ClassCount = classCount;
        AnchorCount = anchorCount;
        _best = new float[anchorCount];
        _bestClass = new int[anchorCount];
    }

    public OutputLayout Layout => OutputLayout.YoloV8;
    public bool IncludesNms => false;
    public int ClassCount { get; }
    public int AnchorCount { get; }
    public int OutputLength => (4 + ClassCount) * AnchorCount;

    public void Decode(ReadOnlySpan<float> output, float minScore, List<Candidate> into)
    {
        if (output.Length < OutputLength)
            throw DecoderMath.ShortOutput(output.Length, OutputLength, $"[1,{4 + ClassCount},{AnchorCount}]");
        var n = AnchorCount;
        var best = _best.AsSpan();
        var bestClass = _bestClass.AsSpan();

        // Walk class rows in memory order (each row is contiguous) keeping a running best per anchor,
        // instead of striding N floats per anchor across 4+C rows.
        output.Slice(4 * n, n).CopyTo(best);
        bestClass.Clear();
        for (var c = 1; c < ClassCount; c++)
            DecoderMath.KeepBest(output.Slice((4 + c) * n, n), c, best, bestClass);

        var cx = output[..n];
        var cy = output.Slice(n, n);
        var w = output.Slice(2 * n, n);
        var h = output.Slice(3 * n, n);
        for (var a = 0; a < n; a++)
        {
            var score = best[a];
            if (score <= minScore) continue;
            into.Add(new Candidate(bestClass[a], score, DecoderMath.FromCentre(cx[a], cy[a], w[a], h[a])));
        }
    }
}
