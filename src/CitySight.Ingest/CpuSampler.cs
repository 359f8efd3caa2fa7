using System.Diagnostics;

namespace CitySight.Ingest;

/// <summary>
/// Adds an ffmpeg process's CPU time to a counter: every <see cref="Interval"/> while frames flow, and once more right
/// before it is killed (by us, a watchdog or cancellation). A process that exits by itself (a file's end) loses its
/// last interval: /proc has nothing for it once it is gone.
/// </summary>
internal sealed class CpuSampler(FfmpegProcess process, Prometheus.Counter.Child counter)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private TimeSpan _reported;
    private long _lastSample = Stopwatch.GetTimestamp();

    public void SampleIfDue()
    {
        if (Stopwatch.GetElapsedTime(Volatile.Read(ref _lastSample)) >= Interval) Sample();
    }

    public void Sample()
    {
        // Reading thread, watchdog timer and cancellation may all get here.
        lock (_gate)
        {
            Volatile.Write(ref _lastSample, Stopwatch.GetTimestamp());
            if (process.CpuTime() is { } t && t > _reported)
            {
                counter.Inc((t - _reported).TotalSeconds);
                _reported = t;
            }
        }
    }

    public void SampleThenKill()
    {
        Sample();
        process.Kill();
    }
}
