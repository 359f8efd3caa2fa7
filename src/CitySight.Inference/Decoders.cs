using System.Numerics;
using System.Runtime.InteropServices;
using CitySight.Domain;

namespace CitySight.Inference;

/// <summary>A scored box before NMS, in model-input pixels.</summary>
public readonly record struct Candidate(int ClassId, float Score, Box Box);

/// <summary>
/// Turns a model's raw output tensor into scored boxes in model-input pixels. One decoder per output shape;
/// instances may keep scratch buffers, so they are not thread-safe.
/// </summary>
public interface IOutputDecoder
{
    OutputLayout Layout { get; }

    /// <summary>Number of floats the output tensor holds.</summary>
    int OutputLength { get; }

    /// <summary>Appends every box whose score exceeds <paramref name="minScore"/> (best class only) to <paramref name="into"/>.</summary>
    void Decode(ReadOnlySpan<float> output, float minScore, List<Candidate> into);
}

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
    public int ClassCount { get; }
    public int AnchorCount { get; }
    public int OutputLength => (4 + ClassCount) * AnchorCount;

    public void Decode(ReadOnlySpan<float> output, float minScore, List<Candidate> into)
    {
        if (output.Length < OutputLength)
            throw new ArgumentException($"output has {output.Length} floats, [1,{4 + ClassCount},{AnchorCount}] needs {OutputLength}", nameof(output));
        var n = AnchorCount;
        var best = _best.AsSpan();
        var bestClass = _bestClass.AsSpan();

        // Walk class rows in memory order (each row is contiguous) keeping a running best per anchor,
        // instead of striding N floats per anchor across 4+C rows.
        output.Slice(4 * n, n).CopyTo(best);
        bestClass.Clear();
        for (var c = 1; c < ClassCount; c++)
            KeepBest(output.Slice((4 + c) * n, n), c, best, bestClass);

        var cx = output[..n];
        var cy = output.Slice(n, n);
        var w = output.Slice(2 * n, n);
        var h = output.Slice(3 * n, n);
        for (var a = 0; a < n; a++)
        {
            var score = best[a];
            if (score <= minScore) continue;
            var hw = w[a] * 0.5f;
            var hh = h[a] * 0.5f;
            into.Add(new Candidate(bestClass[a], score, new Box(cx[a] - hw, cy[a] - hh, cx[a] + hw, cy[a] + hh)));
        }
    }

    private static void KeepBest(ReadOnlySpan<float> row, int classId, Span<float> best, Span<int> bestClass)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && row.Length >= Vector<float>.Count)
        {
            var rowV = MemoryMarshal.Cast<float, Vector<float>>(row);
            var bestV = MemoryMarshal.Cast<float, Vector<float>>(best);
            var classV = MemoryMarshal.Cast<int, Vector<int>>(bestClass);
            var cid = new Vector<int>(classId);
            for (var k = 0; k < rowV.Length; k++)
            {
                var greater = Vector.GreaterThan(rowV[k], bestV[k]);
                bestV[k] = Vector.ConditionalSelect(greater, rowV[k], bestV[k]);
                classV[k] = Vector.ConditionalSelect(greater, cid, classV[k]);
            }
            i = rowV.Length * Vector<float>.Count;
        }
        for (; i < row.Length; i++)
        {
            if (row[i] > best[i])
            {
                best[i] = row[i];
                bestClass[i] = classId;
            }
        }
    }
}

/// <summary>YOLOv5 raw head: [1, N, 5+C], anchor-major: cx, cy, w, h, objectness, C class scores; score = obj x cls.</summary>
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
    public int ClassCount { get; }
    public int AnchorCount { get; }
    public int OutputLength => (5 + ClassCount) * AnchorCount;

    public void Decode(ReadOnlySpan<float> output, float minScore, List<Candidate> into)
    {
        if (output.Length < OutputLength)
            throw new ArgumentException($"output has {output.Length} floats, [1,{AnchorCount},{5 + ClassCount}] needs {OutputLength}", nameof(output));
        var stride = 5 + ClassCount;
        for (var a = 0; a < AnchorCount; a++)
        {
            var row = output.Slice(a * stride, stride);
            var obj = row[4];
            // Class scores are at most 1, so obj bounds the final score.
            if (obj <= minScore) continue;
            var scores = row[5..];
            var cls = 0;
            var clsScore = scores[0];
            for (var c = 1; c < scores.Length; c++)
            {
                if (scores[c] > clsScore)
                {
                    clsScore = scores[c];
                    cls = c;
                }
            }
            var score = obj * clsScore;
            if (score <= minScore) continue;
            var hw = row[2] * 0.5f;
            var hh = row[3] * 0.5f;
            into.Add(new Candidate(cls, score, new Box(row[0] - hw, row[1] - hh, row[0] + hw, row[1] + hh)));
        }
    }
}

/// <summary>Picks and checks a decoder for an output shape.</summary>
public static class OutputDecoders
{
    /// <summary>
    /// A decoder for <paramref name="shape"/> given the manifest's class count. With <see cref="OutputLayout.Auto"/>
    /// the layout is told from the shape.
    /// </summary>
    /// <exception cref="ModelMismatchException">The shape fits no (or not the requested) layout.</exception>
    public static IOutputDecoder Create(OutputLayout layout, IReadOnlyList<long> shape, int classCount, string outputName = "output")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        var c = classCount;
        var rank3 = shape.Count == 3 && shape[0] == 1 && shape[1] > 0 && shape[2] > 0;
        var v8 = rank3 && shape[1] == 4 + c;
        var v5 = rank3 && shape[2] == 5 + c;

        switch (layout)
        {
            case OutputLayout.YoloV8 when v8:
                return new YoloV8Decoder(c, checked((int)shape[2]));
            case OutputLayout.YoloV5 when v5:
                return new YoloV5Decoder(c, checked((int)shape[1]));
            case OutputLayout.Auto when v8 && v5:
                throw new ModelMismatchException(
                    $"output '{outputName}' shape {Format(shape)} fits both YOLOv8 [1,{4 + c},N] and YOLOv5 [1,N,{5 + c}] " +
                    "with " + c + " classes; set output.layout in the manifest");
            case OutputLayout.Auto when v8:
                return new YoloV8Decoder(c, checked((int)shape[2]));
            case OutputLayout.Auto when v5:
                return new YoloV5Decoder(c, checked((int)shape[1]));
        }

        var expected = layout switch
        {
            OutputLayout.YoloV8 => $"[1, {4 + c}, N] (YOLOv8/YOLO11: 4 box values + {c} class scores)",
            OutputLayout.YoloV5 => $"[1, N, {5 + c}] (YOLOv5: 4 box values + objectness + {c} class scores)",
            _ => $"[1, {4 + c}, N] (YOLOv8/YOLO11: 4 box values + {c} class scores) or " +
                 $"[1, N, {5 + c}] (YOLOv5: 4 box values + objectness + {c} class scores)",
        };
        throw new ModelMismatchException(
            $"output '{outputName}' has shape {Format(shape)}; with {c} classes in the manifest expected {expected}. " +
            "Check the model's classes list and output.layout in the manifest.");
    }

    public static string Format(IReadOnlyList<long> shape) => "[" + string.Join(",", shape) + "]";
}

/// <summary>Greedy non-maximum suppression that only lets boxes of the same class suppress each other.</summary>
public static class Nms
{
    /// <summary>
    /// Sorts <paramref name="candidates"/> by score (descending, in place) and appends the survivors to
    /// <paramref name="kept"/>, best first, at most <paramref name="maxDetections"/>.
    /// </summary>
    public static void Apply(List<Candidate> candidates, float iouThreshold, int maxDetections, List<Candidate> kept)
    {
        var all = CollectionsMarshal.AsSpan(candidates);
        all.Sort(static (a, b) => b.Score.CompareTo(a.Score));
        var first = kept.Count;
        foreach (ref readonly var c in all)
        {
            if (kept.Count - first >= maxDetections) break;
            // A candidate is suppressed only by an already kept (higher-scoring) box: same as marking
            // suppressed ones on a sorted list, without a flags array.
            var suppressed = false;
            var survivors = CollectionsMarshal.AsSpan(kept)[first..];
            foreach (ref readonly var k in survivors)
            {
                if (k.ClassId == c.ClassId && k.Box.IoU(c.Box) > iouThreshold)
                {
                    suppressed = true;
                    break;
                }
            }
            if (!suppressed) kept.Add(c);
        }
    }
}
