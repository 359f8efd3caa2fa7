using Prometheus;

namespace CitySight.Cases;

/// <summary>citysight_case_commit_seconds, the same series for every backend.</summary>
internal static class CaseCommitTime
{
    private static readonly Histogram Seconds = Metrics.CreateHistogram(
        "citysight_case_commit_seconds", "From a new case handed to the store to it being durable and on the feed (its pictures and its row).",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });

    /// <summary>A new case committed; <paramref name="called"/> is the Stopwatch timestamp of the store's OpenAsync call.</summary>
    public static void Observe(long called) => Seconds.Observe(System.Diagnostics.Stopwatch.GetElapsedTime(called).TotalSeconds);
}
