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
    /// Issue 14's mechanism in small: a burst of native allocations on a thread of its own (its own arena) is freed,
    /// except every 16th block and the last (which lies at the arena's top): glibc keeps the freed 60 MB resident, since
    /// it only gives back an arena's top by itself. Trim gives them back.
    /// </summary>
    [Fact]
    public void Trim_gives_back_what_an_arena_kept_after_a_burst()
    {
        if (!OperatingSystem.IsLinux())
        {
            output.WriteLine("not Linux: nothing to trim");
            return;
        }
        var kept = new List<IntPtr>();
        var burst = new Thread(() =>
        {
            var blocks = new IntPtr[Blocks];
            for (var i = 0; i < Blocks; i++)
            {
                blocks[i] = Marshal.AllocHGlobal(BlockBytes); // malloc
                unsafe { new Span<byte>((void*)blocks[i], BlockBytes).Fill(1); } // resident
            }
            for (var i = 0; i < Blocks; i++)
                if (i % 16 == 0 || i == Blocks - 1) kept.Add(blocks[i]);
                else Marshal.FreeHGlobal(blocks[i]);
        });
        burst.Start();
        burst.Join();
        try
        {
            var before = ResidentAnonymous();
            var trimmed = NativeHeap.Trim();
            var after = ResidentAnonymous();
            var givenBack = (before - after) / 1048576.0;
            output.WriteLine($"trim returned {trimmed}; anonymous resident {before / 1048576.0:F1} -> {after / 1048576.0:F1} MB ({givenBack:F1} MB given back)");
            Assert.True(givenBack > 40, $"only {givenBack:F1} MB of the 60 MB freed came back");
        }
        finally
        {
            foreach (var b in kept) Marshal.FreeHGlobal(b);
        }
    }

    private static long ResidentAnonymous() =>
        long.Parse(Regex.Match(File.ReadAllText("/proc/self/status"), @"RssAnon:\s+(\d+) kB").Groups[1].Value) * 1024;
}
