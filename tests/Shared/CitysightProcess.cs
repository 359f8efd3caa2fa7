using System.Diagnostics;

namespace CitySight.Tests;

/// <summary>The citysight command as a user runs it: a real process with stdout and stderr redirected, as in CI.</summary>
internal static class CitysightProcess
{
    public static async Task<(int Code, string Out, string Err)> RunAsync(TimeSpan limit, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestAssets.RepoRoot };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "citysight.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The tests name their config explicitly; an operator's environment must not leak in.
        psi.Environment["CITYSIGHT_CONFIG"] = "";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"citysight {string.Join(' ', args)} ran over {limit.TotalSeconds:0} s; stderr so far:\n{await stderr}");
        }
        return (p.ExitCode, await stdout, await stderr);
    }
}
