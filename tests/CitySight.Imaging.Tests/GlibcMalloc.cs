using System.Runtime.InteropServices;

namespace CitySight.Imaging.Tests;

/// <summary>
/// glibc's own account of the native heap: what malloc holds from the system (arena heaps, free chunks included, and
/// mmapped chunks). Free memory an arena keeps is resident but invisible to a count of live allocations; this sees it.
/// </summary>
internal static partial class GlibcMalloc
{
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallInfo2 Info();

    /// <summary>glibc 2.33 or later on Linux (mallinfo2); elsewhere the tests that read it are skipped.</summary>
    public static bool Available { get; } = Probe();

    /// <summary>Bytes malloc holds from the system, in use or not.</summary>
    public static long HeldBytes()
    {
        var i = Info();
        return (long)(i.Arena + i.Hblkhd);
    }

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return HeldBytes() > 0;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
    }
}
