namespace CitySight.Inference;

/// <summary>
/// YOLOv5 head with boxes already decoded to input pixels: [1, N, 5+C], anchor-major: cx, cy, w, h,
/// objectness, C class scores; score = obj x cls.
/// </summary>
public sealed class YoloV5Decoder : IOutputDecoder
{
    public YoloV5Decoder(int classCount, int anchorCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(anchorCount);
        ClassCount = classCount;
        AnchorCount = anchorCount;
    }

    public OutputLayout Layout => OutputLayout.YoloV5;
    public bool IncludesNms => false;
    public int ClassCount { get; }
    public int AnchorCount { get; }
    public int OutputLength => (5 + ClassCount) * AnchorCount;

    public void Decode(ReadOnlySpan<float> output, float minScore, List<Candidate> into)
    {
        if (output.Length < OutputLength)
            throw DecoderMath.ShortOutput(output.Length, OutputLength, $"[1,{AnchorCount},{5 + ClassCount}]");
        var stride = 5 + ClassCount;
        for (var a = 0; a < AnchorCount; a++)
        {
            var row = output.Slice(a * stride, stride);
            var obj = row[4];
            // Class scores are at most 1, so obj bounds the final score.
            if (obj <= minScore) continue;
            var cls = DecoderMath.ArgMax(row[5..], out var clsScore);
            var score = obj * clsScore;
            if (score <= minScore) continue;
            into.Add(new Candidate(cls, score, DecoderMath.FromCentre(row[0], row[1], row[2], row[3])));
        }
    }
}
