using System.Runtime.InteropServices;

namespace CitySight.Inference;

/// <summary>
/// Gives the free memory glibc's malloc keeps back to the system. Issue 14: the pipeline's native libraries (ONNX
/// Runtime, OpenCV, Skia, SQLite) run on whichever pool thread an await resumes on, each thread on its own malloc arena,
/// and an arena only ever shrinks from its top: what a burst freed (a case's pictures and blobs, a compile) stays
/// resident in every arena that saw one. Measured on the soak: live malloc'd bytes flat (heaptrack, 16 min), while
/// arenas held twice what was in use, and one malloc_trim(0) gave back 20 MB of 320. Elsewhere (musl, macOS, Windows)
/// nothing is done.
/// </summary>
public static partial class NativeHeap
{
    private static int _supported = OperatingSystem.IsLinux() ? 1 : 0;

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    [LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallInfo2 MallInfo();

    /// <summary>glibc's struct mallinfo2 (2.33+): ten size_t fields, in this order.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly struct MallInfo2
    {
        public readonly nuint Arena, OrdBlks, SmBlks, HBlks, HBlkHd, UsmBlks, FsmBlks, UordBlks, FordBlks, KeepCost;
    }

    /// <summary>Whether the C library has malloc_trim (glibc): false once a call found it missing.</summary>
    public static bool Supported => Volatile.Read(ref _supported) == 1;

    /// <summary>
    /// malloc_trim(0): every arena's free pages back to the system (a few milliseconds on a service's heap). True when
    /// anything was given back.
    /// </summary>
    public static bool Trim()
    {
        if (!Supported) return false;
        try
        {
            return MallocTrim(0) == 1;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            Volatile.Write(ref _supported, 0);
            return false;
        }
    }

    /// <summary>
    /// Bytes malloc has handed out and not had back (every arena's chunks in use plus mmapped ones): the live native heap,
    /// whatever the arenas hold beside it. Null where glibc's mallinfo2 is not there. A leak shows here; fragmentation does not.
    /// </summary>
    public static long? InUseBytes()
    {
        if (!Supported) return null;
        try
        {
            var m = MallInfo();
            return (long)(m.UordBlks + m.HBlkHd);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
    }
}
