using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace CitySight.Inference.Tests;

/// <summary>Runs alone: it reads the whole process's resident memory, which parallel tests would move.</summary>
[CollectionDefinition(nameof(NativeHeapCollection), DisableParallelization = true)]
public sealed class NativeHeapCollection;

[Collection(nameof(NativeHeapCollection))]
public sealed class NativeHeapTests(ITestOutputHelper output)
{
    private const int Blocks = 1024, BlockBytes = 64 * 1024; // 64 MB, each block under glibc's mmap threshold

    /// <summary>
    /// Issue 14's mechanism in small: a burst of native allocations on a thread of its own (its own arena) is freed, but
    /// a block allocated after it keeps it off the arena's top, so glibc keeps all of it resident. Trim gives it back.
    /// </summary>
    [Fact]
    public void Trim_gives_back_what_an_arena_kept_after_a_burst()
    {
        if (!OperatingSystem.IsLinux())
        {
            output.WriteLine("not Linux: nothing to trim");
            return;
        }
        var keeper = IntPtr.Zero;
        var burst = new Thread(() =>
        {
            var blocks = new IntPtr[Blocks];
            for (var i = 0; i < Blocks; i++)
            {
                blocks[i] = Marshal.AllocHGlobal(BlockBytes); // malloc
                unsafe { new Span<byte>((void*)blocks[i], BlockBytes).Fill(1); } // resident
            }
            keeper = Marshal.AllocHGlobal(64);
            foreach (var b in blocks) Marshal.FreeHGlobal(b);
        });
        burst.Start();
        burst.Join();
        try
        {
            var kept = ResidentAnonymous();
            var trimmed = NativeHeap.Trim();
            var after = ResidentAnonymous();
            var givenBack = (kept - after) / 1048576.0;
            output.WriteLine($"trim returned {trimmed}; anonymous resident {kept / 1048576.0:F1} -> {after / 1048576.0:F1} MB ({givenBack:F1} MB given back)");
            Assert.True(givenBack > 40, $"only {givenBack:F1} MB of the 64 MB freed came back");
        }
        finally
        {
            Marshal.FreeHGlobal(keeper);
        }
    }

    private static long ResidentAnonymous() =>
        long.Parse(Regex.Match(File.ReadAllText("/proc/self/status"), @"RssAnon:\s+(\d+) kB").Groups[1].Value) * 1024;
}
