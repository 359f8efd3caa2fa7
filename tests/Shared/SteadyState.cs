namespace CitySight.Tests;

/// <summary>Measures what a hot path allocates once warm, on the calling thread.</summary>
public static class SteadyState
{
    /// <summary>
    /// Bytes this thread allocates running <paramref name="step"/> <paramref name="times"/> times: the least of
    /// <paramref name="tries"/> measurements. An allocation of the code under test shows in every try; a one-off of the
    /// runtime's on whatever thread happens to be calling (tiered JIT's call counting, a timer it sets up, seen once on
    /// a loaded CI run as 8 KB inside one decode) shows in one.
    /// </summary>
    public static long AllocatedBytes(Action<int> step, int times = 1, int tries = 3)
    {
        ArgumentNullException.ThrowIfNull(step);
        var least = long.MaxValue;
        var i = 0;
        for (var t = 0; t < tries && least > 0; t++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var k = 0; k < times; k++) step(i++);
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}
