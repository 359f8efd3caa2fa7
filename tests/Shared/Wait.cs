namespace CitySight.Tests;

/// <summary>
/// Polls a condition on a live system that offers no event to wait on (a publisher's state, a metric, a camera's state
/// over the admin API) until it holds, or fails with what it waited for. Never a fixed sleep.
/// </summary>
public static class Wait
{
    /// <summary>How long a wait lasts when the test names no limit.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    public static Task UntilAsync(Func<bool> condition, string what) => UntilAsync(condition, DefaultTimeout, what);

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what, TimeSpan.FromMilliseconds(20));

    /// <summary>For a condition that asks the system over the network (a gRPC call, /metrics): polled more gently.</summary>
    public static Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what) =>
        UntilAsync(condition, timeout, what, TimeSpan.FromMilliseconds(100));

    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, TimeSpan every)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var tick = new PeriodicTimer(every);
        while (!await condition())
        {
            try { await tick.WaitForNextTickAsync(cts.Token); }
            catch (OperationCanceledException) { throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0} s waiting for: {what}"); }
        }
    }
}
