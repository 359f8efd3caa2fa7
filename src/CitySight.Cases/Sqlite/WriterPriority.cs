using System.Runtime.InteropServices;

namespace CitySight.Cases.Sqlite;

/// <summary>
/// Asks Linux to give the calling thread the highest ordinary priority (nice -20): when it wakes (after each fsync of a
/// commit) it then gets a CPU ahead of the pool's delivery work. .NET's Thread.Priority does nothing on Linux, hence the
/// system call; a nice value is per thread on Linux. With SCHED_FLAG_RESET_ON_FORK: a thread this one creates (the thread
/// pool starts its workers from whichever thread asks for one, and the writer queues work) starts at nice 0 again, or
/// pool threads would inherit -20 one by one and the favour would be everyone's.
/// </summary>
/// <remarks>
/// Deliberately not a realtime policy: SCHED_FIFO took the tail off the commits too, but a realtime thread that spins for
/// a lock held by an ordinary thread on the same core starves the holder, and in a managed runtime (GC suspension,
/// thread-pool and metric locks) that stalled delivery for seconds in one bench run in three. Nice -20 stays in the fair
/// scheduler: weighted, never starving anyone. Granted to root and to a process with CAP_SYS_NICE or an RLIMIT_NICE of
/// 40 (systemd: LimitNICE=-20 or AmbientCapabilities=CAP_SYS_NICE; Kubernetes or Docker: add the SYS_NICE capability).
/// </remarks>
internal static partial class WriterPriority
{
    /// <summary>The nice value asked for.</summary>
    public const int Nice = -20;

    /// <summary>True when the calling thread now runs at <see cref="Nice"/>; false where the OS refused or is not Linux.</summary>
    public static bool TryRaiseCurrentThread()
    {
        if (!OperatingSystem.IsLinux()) return false;
        long call = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 314, // sched_setattr
            Architecture.Arm64 => 274,
            _ => 0,
        };
        if (call == 0) return false;
        try
        {
            var attr = new SchedAttr { Size = (uint)Marshal.SizeOf<SchedAttr>(), Policy = 0 /* SCHED_OTHER */, Flags = 1 /* SCHED_FLAG_RESET_ON_FORK */, Nice = Nice };
            // pid 0: the calling thread.
            return SchedSetAttr(call, 0, ref attr, 0) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The calling thread's nice value, for tests.</summary>
    public static int CurrentNice() => OperatingSystem.IsLinux() ? GetPriority(0, GetTid()) : 0;

    /// <summary>struct sched_attr, its first version (48 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct SchedAttr
    {
        public uint Size;
        public uint Policy;
        public ulong Flags;
        public int Nice;
        public uint Priority;
        public ulong Runtime;
        public ulong Deadline;
        public ulong Period;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial int SchedSetAttr(long number, int pid, ref SchedAttr attr, uint flags);

    [LibraryImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static partial int GetPriority(int which, int who);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();
}
