using System.Runtime.InteropServices;

namespace CitySight.Inference;

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

    /// <summary>
    /// For decoders whose model already applied NMS (<see cref="IOutputDecoder.IncludesNms"/>): sorts by score
    /// and appends the best <paramref name="maxDetections"/> to <paramref name="kept"/> without suppressing any.
    /// </summary>
    public static void TopK(List<Candidate> candidates, int maxDetections, List<Candidate> kept)
    {
        var all = CollectionsMarshal.AsSpan(candidates);
        all.Sort(static (a, b) => b.Score.CompareTo(a.Score));
        var n = Math.Min(all.Length, Math.Max(0, maxDetections));
        kept.AddRange(all[..n]);
    }
}
