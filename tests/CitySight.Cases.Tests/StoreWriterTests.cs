using System.Collections.Concurrent;
using CitySight.Cases.Sqlite;
using Xunit;

namespace CitySight.Cases.Tests;

/// <summary>The store's one writer thread: realtime where the OS allows it, case writes ahead of acks, cancellation.</summary>
public sealed class StoreWriterTests
{
    [Fact]
    public async Task The_writer_runs_at_a_raised_priority_where_the_process_may_ask_for_it_and_says_so()
    {
        using var writer = new StoreWriter("test-writer");
        var nice = await writer.WriteAsync(WriterPriority.CurrentNice);
        if (!OperatingSystem.IsLinux())
        {
            Assert.False(writer.Raised);
            return;
        }
        // Root (as in CI) has CAP_SYS_NICE; an ordinary user without an RLIMIT_NICE is refused.
        Assert.Equal(MayRaisePriority(), writer.Raised);
        Assert.Equal(writer.Raised ? WriterPriority.Nice : WriterPriority.CurrentNice(), nice); // on the writer's own thread
        if (writer.Raised) Assert.NotEqual(WriterPriority.Nice, WriterPriority.CurrentNice()); // and only there

        // A thread the writer starts (the pool starts workers from the thread that queues work) is not favoured.
        var child = await writer.WriteAsync(() =>
        {
            var seen = 0;
            var t = new Thread(() => seen = WriterPriority.CurrentNice());
            t.Start();
            t.Join();
            return seen;
        });
        if (writer.Raised) Assert.Equal(0, child);
    }

    /// <summary>CAP_SYS_NICE (bit 23) in the effective set, or an RLIMIT_NICE that reaches nice -20 (a limit of 40).</summary>
    private static bool MayRaisePriority()
    {
        var capEff = File.ReadLines("/proc/self/status").First(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        var caps = Convert.ToUInt64(capEff["CapEff:".Length..].Trim(), 16);
        var limit = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max nice priority", StringComparison.Ordinal));
        var soft = limit["Max nice priority".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        return (caps & (1UL << 23)) != 0 || soft == "unlimited" || int.Parse(soft) >= 20 - WriterPriority.Nice;
    }

    [Fact]
    public async Task A_case_write_goes_ahead_of_a_background_write_that_was_queued_before_it()
    {
        using var writer = new StoreWriter("test-writer");
        using var gate = new ManualResetEventSlim();
        var order = new ConcurrentQueue<string>();
        var busy = writer.WriteAsync(() => gate.Wait(TimeSpan.FromSeconds(30)));
        var ack = writer.WriteWhenIdleAsync(() => { order.Enqueue("ack"); return 0; });
        var first = writer.WriteAsync(() => { order.Enqueue("case 1"); return 0; });
        var second = writer.WriteAsync(() => { order.Enqueue("case 2"); return 0; });
        gate.Set();
        await Task.WhenAll(busy, ack, first, second);
        Assert.Equal(["case 1", "case 2", "ack"], order);
    }

    [Fact]
    public async Task A_background_write_is_not_starved_by_a_steady_stream_of_case_writes()
    {
        using var writer = new StoreWriter("test-writer");
        var ack = writer.WriteWhenIdleAsync(() => 0);
        var cases = 0;
        // Each case write takes a millisecond or two, like a commit; the ack must go within MaxDefer (50 ms), long before
        // the 2,000th (several seconds of commits).
        while (!ack.IsCompleted && cases < 2000)
        {
            await writer.WriteAsync(() => { Thread.Sleep(1); return 0; });
            cases++;
        }
        Assert.True(ack.IsCompleted, $"the background write still waited after {cases} case writes");
        Assert.InRange(cases, 0, 500);
    }

    [Fact]
    public async Task A_write_cancelled_while_it_waits_never_runs_and_one_that_throws_fails_its_caller_only()
    {
        using var writer = new StoreWriter("test-writer");
        using var gate = new ManualResetEventSlim();
        var busy = writer.WriteAsync(() => gate.Wait(TimeSpan.FromSeconds(30)));
        using var cts = new CancellationTokenSource();
        var ran = false;
        var cancelled = writer.WriteAsync(() => ran = true, cts.Token);
        var failing = writer.WriteAsync<int>(() => throw new IOException("disk full"));
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        gate.Set();
        Assert.Equal("disk full", (await Assert.ThrowsAsync<IOException>(() => failing)).Message);
        Assert.Equal(7, await writer.WriteAsync(() => 7)); // the writer goes on
        await busy;
        Assert.False(ran);
    }

    [Fact]
    public async Task Disposing_runs_what_was_queued_and_refuses_what_comes_after()
    {
        var writer = new StoreWriter("test-writer");
        using var gate = new ManualResetEventSlim();
        var busy = writer.WriteAsync(() => gate.Wait(TimeSpan.FromSeconds(30)));
        var queued = writer.WriteAsync(() => 1);
        var disposing = Task.Run(writer.Dispose);
        gate.Set();
        await disposing;
        Assert.Equal(1, await queued);
        Assert.True(await busy);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => writer.WriteAsync(() => 2));
    }
}
