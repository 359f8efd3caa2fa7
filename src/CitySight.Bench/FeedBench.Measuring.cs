using System.Diagnostics;

namespace CitySight.Bench;

internal static partial class FeedBench
{
    // ---------------------------------------------------------------- measuring

    /// <summary>Peak resident set and managed heap of this process, sampled every 20 ms while alive.</summary>
    private sealed class MemorySampler : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private long _peak, _peakHeap;
        private int _disposed;

        public MemorySampler()
        {
            StartBytes = ProcessUsage.RssBytes(ProcessUsage.Self);
            Sample();
            _loop = Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
                try
                {
                    while (await timer.WaitForNextTickAsync(_stop.Token)) Sample();
                }
                catch (OperationCanceledException) { }
            });
        }

        public long StartBytes { get; }
        public long PeakBytes => Interlocked.Read(ref _peak);
        public long PeakHeapBytes => Interlocked.Read(ref _peakHeap);

        private void Sample()
        {
            var rss = ProcessUsage.RssBytes(ProcessUsage.Self);
            if (rss == 0) rss = Environment.WorkingSet; // not Linux
            if (rss > _peak) Interlocked.Exchange(ref _peak, rss);
            var heap = GC.GetTotalMemory(false);
            if (heap > _peakHeap) Interlocked.Exchange(ref _peakHeap, heap);
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            Sample();
            _stop.Cancel();
            await _loop;
            _stop.Dispose();
        }
    }

    /// <summary>Each phase starts from a collected heap, so one phase's garbage does not count against the next.</summary>
    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static double Seconds(long from, long to) => Math.Max(Stopwatch.GetElapsedTime(from, to).TotalSeconds, 1e-9);

    public static LatencyFigures? Stats(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) return null;
        var sorted = values.Order().ToArray();
        return new LatencyFigures(sorted.Length, R3(Percentile(sorted, 0.50)), R3(Percentile(sorted, 0.95)), R3(Percentile(sorted, 0.99)),
            R3(sorted[^1]), R3(sorted.Average()));
    }

    /// <summary>Nearest rank: the smallest value with at least q of the values at or below it.</summary>
    private static double Percentile(double[] sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double R1(double v) => Math.Round(v, 1);
    private static double R2(double v) => Math.Round(v, 2);
    private static double R3(double v) => Math.Round(v, 3);

    /// <summary>VmHWM: the highest resident set this process has had.</summary>
    private static long PeakRssBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return Process.GetCurrentProcess().PeakWorkingSet64;
    }

    public static string Device()
    {
        var model = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is var c and > 0)
                {
                    model = line[(c + 1)..].Trim();
                    break;
                }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return $"CPU: {model}, {Environment.ProcessorCount} cores";
    }

    /// <summary>The file system the stores live on ("ext4 on /dev/vda1 at /"): fsync's cost depends on it.</summary>
    public static string FileSystemOf(string path)
    {
        try
        {
            string? best = null, type = null, device = null;
            foreach (var line in File.ReadLines("/proc/mounts"))
            {
                var f = line.Split(' ');
                if (f.Length < 3) continue;
                var mount = f[1].Replace("\\040", " ");
                var under = mount == "/" || path == mount || path.StartsWith(mount.TrimEnd('/') + "/", StringComparison.Ordinal);
                if (under && (best is null || mount.Length >= best.Length)) (best, device, type) = (mount, f[0], f[2]);
            }
            return best is null ? "unknown" : $"{type} on {device} at {best}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }
    }
}
