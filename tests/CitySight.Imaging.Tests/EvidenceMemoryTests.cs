using System.Text.RegularExpressions;
using CitySight.Domain;
using Xunit.Abstractions;

namespace CitySight.Imaging.Tests;

/// <summary>Runs alone: it reads the whole process's native heap, which parallel tests would move.</summary>
[CollectionDefinition(nameof(NativeMemoryCollection), DisableParallelization = true)]
public sealed class NativeMemoryCollection;

[Collection(nameof(NativeMemoryCollection))]
public sealed class EvidenceMemoryTests(ITestOutputHelper output)
{
    private const int W = 1280, H = 720;

    /// <summary>
    /// Issue 14: the service draws evidence on whichever pool thread raises the case. With the canvas (and a scaled view)
    /// in native memory, each thread's glibc arena kept the freed buffers (8 MB for this 1280x720 before/after pair) for
    /// good, so resident memory climbed as more threads took a turn. Measured here, malloc's held bytes per 1,000
    /// pictures: about 1,650 MB with native canvases, about 90 MB with the reused managed buffers (what is left: OpenCV's
    /// JPEG output and resize buffers, per thread). Bound 300: over three times the fixed figure, a fifth of the bug's.
    /// </summary>
    [Fact]
    public void Evidence_drawn_on_many_threads_keeps_no_native_memory_per_thread()
    {
        if (!GlibcMalloc.Available)
        {
            output.WriteLine("not glibc: nothing to measure");
            return;
        }
        var before = Frame(60);
        var after = Frame(140);
        var sketch = new EvidenceSketch(
            [[new(0.1, 0.5), new(0.9, 0.5), new(0.9, 0.95), new(0.1, 0.95)]],
            [(new Box(300, 300, 600, 600), "垃圾 garbage 0.91")],
            ["暴露垃圾 Exposed garbage", "东门路口 North gate · cam-12 · 10:42:07"]);
        void Draw() => EvidenceImage.EncodePairJpeg(before, W / 2, H / 2, after, W, H, sketch, "之前 before", "之后 after");

        // Warm-up: real pictures on this thread (fonts, glyph caches, OpenCV's encoder, the reused buffers at full size),
        // and threads that stay, as a pool's do, each with a tiny picture (its arena, OpenCV's and Skia's per-thread state).
        for (var i = 0; i < 3; i++) Draw();
        const int threads = 8, perThread = 6;
        using var pool = new TurnThreads(threads);
        pool.EachInTurn(() => EvidenceImage.EncodePairJpeg(before, 16, 16, after, 16, 16, sketch, "b", "a"));

        // Then real pictures on each thread in turn, one at a time as the one case-raising loop draws them.
        var startHeld = GlibcMalloc.HeldBytes();
        var startResident = Resident();
        for (var i = 0; i < perThread; i++) pool.EachInTurn(Draw);
        var pictures = threads * perThread;
        var heldPer1000 = (GlibcMalloc.HeldBytes() - startHeld) / 1048576.0 * 1000 / pictures;
        var residentPer1000 = (Resident() - startResident) / 1048576.0 * 1000 / pictures;
        output.WriteLine($"{pictures} pictures on {threads} threads: malloc held {heldPer1000:F1} MB, resident {residentPer1000:F1} MB per 1,000 pictures");

        Assert.True(heldPer1000 < 300, $"native heap kept {heldPer1000:F1} MB per 1,000 evidence pictures drawn on pool-like threads (bound 300)");
    }

    /// <summary>A smooth scene (gradients, as a street mostly is): its JPEG is a street's size, not noise's megabytes.</summary>
    private static byte[] Frame(int shade)
    {
        var bgr = new byte[W * H * 3];
        for (var y = 0; y < H; y++)
            for (var x = 0; x < W; x++)
            {
                var p = (y * W + x) * 3;
                bgr[p] = (byte)(shade + x / 16);
                bgr[p + 1] = (byte)(shade + y / 8);
                bgr[p + 2] = (byte)shade;
            }
        return bgr;
    }

    private static long Resident() =>
        long.Parse(Regex.Match(File.ReadAllText("/proc/self/status"), @"VmRSS:\s+(\d+) kB").Groups[1].Value) * 1024;
}

/// <summary>Long-lived threads that run an action one after another, each to the end before the next starts.</summary>
internal sealed class TurnThreads : IDisposable
{
    private readonly List<(Thread Thread, System.Collections.Concurrent.BlockingCollection<Action> Work)> _threads = [];
    private readonly SemaphoreSlim _done = new(0);

    public TurnThreads(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var work = new System.Collections.Concurrent.BlockingCollection<Action>();
            var thread = new Thread(() =>
            {
                foreach (var a in work.GetConsumingEnumerable())
                {
                    try { a(); }
                    finally { _done.Release(); }
                }
            }) { IsBackground = true };
            thread.Start();
            _threads.Add((thread, work));
        }
    }

    public void EachInTurn(Action action)
    {
        foreach (var (_, work) in _threads)
        {
            work.Add(action);
            if (!_done.Wait(TimeSpan.FromSeconds(60))) throw new TimeoutException("a worker thread did not finish its turn");
        }
    }

    public void Dispose()
    {
        foreach (var (thread, work) in _threads)
        {
            work.CompleteAdding();
            thread.Join();
            work.Dispose();
        }
        _done.Dispose();
    }
}
