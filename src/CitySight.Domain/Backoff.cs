namespace CitySight.Domain;

/// <summary>How long to wait before trying again: capped exponential, with jitter so many clients do not retry in step.</summary>
public static class Backoff
{
    /// <summary>
    /// <paramref name="initial"/> · 2^<paramref name="retry"/> (retry 0 = the first wait), at most <paramref name="max"/>,
    /// times a random factor in [1 − <paramref name="jitter"/>, 1 + <paramref name="jitter"/>], or in [1, 1 + 2·jitter]
    /// when <paramref name="neverSooner"/> (a wait that must not undercut what was configured).
    /// </summary>
    public static TimeSpan Exponential(TimeSpan initial, TimeSpan max, int retry, double jitter = 0.2, bool neverSooner = false)
    {
        var j = Math.Clamp(jitter, 0, 1);
        var factor = neverSooner ? 1 + Random.Shared.NextDouble() * 2 * j : 1 + (Random.Shared.NextDouble() * 2 - 1) * j;
        var ticks = Math.Min(max.Ticks, initial.Ticks * Math.Pow(2, Math.Clamp(retry, 0, 30)));
        return TimeSpan.FromTicks((long)(ticks * factor));
    }
}
