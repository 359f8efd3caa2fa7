namespace CitySight.EndToEnd.Tests;

internal static class Wait
{
    /// <summary>Waits for a condition on the live system to become true; fails with the description after the timeout.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (!condition())
        {
            try { await tick.WaitForNextTickAsync(cts.Token); }
            catch (OperationCanceledException) { throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0} s waiting for: {what}"); }
        }
    }

    public static int FreeTcpPort() => CitySight.Tests.TestPorts.Free();
}
