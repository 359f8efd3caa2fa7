using Microsoft.Extensions.Hosting;

namespace CitySight.Inference;

/// <summary>
/// Gives glibc's free arena memory back every <see cref="Interval"/> (<see cref="NativeHeap"/>; issue 14). A loop of its
/// own on the wall clock: memory is the process's whatever the cameras' clocks say, and no frame waits for the trim.
/// </summary>
public sealed class NativeHeapTrimWorker(TimeSpan interval, Func<bool>? trim = null) : BackgroundService
{
    /// <summary>How often the service trims by default.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(30);

    private readonly Func<bool> _trim = trim ?? NativeHeap.Trim;

    public NativeHeapTrimWorker() : this(DefaultInterval)
    {
    }

    public TimeSpan Interval { get; } = interval;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (trim is null && !NativeHeap.Supported) return;
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false)) _trim();
    }
}
