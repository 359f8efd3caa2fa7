using CitySight.Tests;

namespace CitySight.Inference.Tests;

/// <summary>The trim runs on a loop of its own, again and again, and stops with the service.</summary>
public sealed class NativeHeapTrimWorkerTests
{
    [Fact]
    public async Task It_trims_every_interval_until_stopped()
    {
        var trims = 0;
        using var worker = new NativeHeapTrimWorker(TimeSpan.FromMilliseconds(20), () => Interlocked.Increment(ref trims) > 0);
        await worker.StartAsync(CancellationToken.None);
        await Wait.UntilAsync(() => Volatile.Read(ref trims) >= 3, "three trims");
        await worker.StopAsync(CancellationToken.None);
        var stopped = Volatile.Read(ref trims);
        Assert.Equal(stopped, Volatile.Read(ref trims));
    }

    [Fact]
    public void The_service_default_is_every_30_seconds() =>
        Assert.Equal(TimeSpan.FromSeconds(30), new NativeHeapTrimWorker().Interval);
}
