using System.Diagnostics;

namespace CitySight.Bench;

/// <summary>CPU time and resident memory of processes as the kernel accounts them (/proc), for benchmarks on Linux.</summary>
internal static class ProcessUsage
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>User+system CPU seconds of one process (0 if it is gone).</summary>
    public static double CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name, which may contain spaces, in parentheses.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11]) + long.Parse(fields[12])) / TicksPerSecond;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }
    }

    public static long RssBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return 0;
    }

    /// <summary>Live child processes of <paramref name="parent"/> whose command is <paramref name="name"/>.</summary>
    public static List<int> Children(int parent, string name)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var comm = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
                var ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
                if (ppid == parent && comm == name) found.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        }
        return found;
    }

    public static int Self => Environment.ProcessId;

    public static double SelfCpuSeconds() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
}

/// <summary>
/// CPU used by a set of processes over a window, counting processes that start or end inside it
/// (an ffmpeg restarted mid-window contributes what it used while alive).
/// </summary>
internal sealed class CpuMeter(Func<IEnumerable<int>> pids)
{
    private readonly Dictionary<int, (double Start, double Last)> _seen = [];
    private bool _counting;

    /// <summary>Call often (e.g. every second) so short-lived processes are counted.</summary>
    public void Sample()
    {
        foreach (var pid in pids())
        {
            var cpu = ProcessUsage.CpuSeconds(pid);
            // A process born inside the window counts from zero.
            _seen[pid] = _seen.TryGetValue(pid, out var v) ? (v.Start, Math.Max(v.Last, cpu)) : (_counting ? 0 : cpu, cpu);
        }
    }

    /// <summary>Starts counting from now: what each known process used so far is excluded.</summary>
    public void Reset()
    {
        Sample();
        foreach (var pid in _seen.Keys.ToList()) _seen[pid] = (_seen[pid].Last, _seen[pid].Last);
        _counting = true;
    }

    public double Seconds => _seen.Values.Sum(v => v.Last - v.Start);
}
