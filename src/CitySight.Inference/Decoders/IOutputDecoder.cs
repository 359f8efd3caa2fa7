using System.Numerics;
using System.Runtime.InteropServices;
using CitySight.Domain;

namespace CitySight.Inference;

/// <summary>A scored box before NMS, in model-input pixels.</summary>
public readonly record struct Candidate(int ClassId, float Score, Box Box);

/// <summary>
/// Turns a model's raw output tensor into scored boxes in model-input pixels. One decoder per output shape;
/// instances may keep scratch buffers, so they are not thread-safe. Decoding allocates nothing.
/// </summary>
public interface IOutputDecoder
{
    OutputLayout Layout { get; }

    /// <summary>Number of floats the output holds for ONE image (a batch of n holds n times this, image after image).</summary>
    int OutputLength { get; }

    /// <summary>True when the model already applied NMS (end-to-end exports): running NMS again is not needed.</summary>
    bool IncludesNms { get; }

    /// <summary>
    /// Appends every box of one image's output slice whose score exceeds <paramref name="minScore"/>
    /// (best class only) to <paramref name="into"/>.
    /// </summary>
    void Decode(ReadOnlySpan<float> output, float minScore, List<Candidate> into);
}

internal static class DecoderMath
{
    /// <summary>Built only when thrown: formatting the shape on every call would allocate per frame.</summary>
    public static ArgumentException ShortOutput(int length, int needed, string shape) =>
        new($"output has {length} floats, {shape} needs {needed}", "output");

    /// <summary>
    /// Keeps a running best score and class per position, walking one contiguous class row: used by the
    /// channel-major layouts, where striding across rows per position would be slow.
    /// </summary>
    public static void KeepBest(ReadOnlySpan<float> row, int classId, Span<float> best, Span<int> bestClass)
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

    /// <summary>Best class score and its index in a contiguous row of class scores.</summary>
    public static int ArgMax(ReadOnlySpan<float> scores, out float best)
    {
        var cls = 0;
        best = scores[0];
        for (var c = 1; c < scores.Length; c++)
        {
            if (scores[c] > best)
            {
                best = scores[c];
                cls = c;
            }
        }
        return cls;
    }

    public static Box FromCentre(float cx, float cy, float w, float h)
    {
        var hw = w * 0.5f;
        var hh = h * 0.5f;
        return new Box(cx - hw, cy - hh, cx + hw, cy + hh);
    }
}
