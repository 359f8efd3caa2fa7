using CitySight.Domain;

namespace CitySight.Inference;

/// <summary>
/// End-to-end exports with NMS inside the model (YOLOv10, RT-DETR style): [1, K, 6], rows x1, y1, x2, y2,
/// score, class id in input pixels. Unused rows (score 0) fall under any threshold.
/// </summary>
public sealed class EndToEndDecoder : IOutputDecoder
{
    public EndToEndDecoder(int classCount, int maxDetections)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDetections);
        ClassCount = classCount;
        MaxDetections = maxDetections;
    }

    public OutputLayout Layout => OutputLayout.EndToEnd;
    public bool IncludesNms => true;
    public int ClassCount { get; }

    /// <summary>K: rows the model outputs.</summary>
    public int MaxDetections { get; }

    public int OutputLength => 6 * MaxDetections;

    public void Decode(ReadOnlySpan<float> output, float minScore, List<Candidate> into)
    {
        if (output.Length < OutputLength)
            throw DecoderMath.ShortOutput(output.Length, OutputLength, $"[1,{MaxDetections},6]");
        for (var k = 0; k < MaxDetections; k++)
        {
            var row = output.Slice(k * 6, 6);
            var score = row[4];
            if (!(score > minScore)) continue;
            var clsValue = row[5];
            // A class the manifest does not list cannot be named downstream (NaN fails both tests too).
            if (!(clsValue >= 0 && clsValue < ClassCount)) continue;
            into.Add(new Candidate((int)clsValue, score, new Box(row[0], row[1], row[2], row[3])));
        }
    }
}
