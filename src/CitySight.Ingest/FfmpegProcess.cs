using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace CitySight.Ingest;

/// <summary>
/// One ffmpeg child process with its pipes. System.Diagnostics.Process rather than FFMpegCore's runner:
/// frames must be read from stdout into our own pooled buffers at our own pace, stderr must be read
/// line by line while that happens (timestamps), and the process must die the moment a camera is cancelled.
/// </summary>
internal sealed class FfmpegProcess : IAsyncDisposable
{
    private readonly Process _process;
    private FfmpegProcess(Process process) => _process = process;

    public static FfmpegProcess Start(string program, IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true, // never inherit ours; ffmpeg gets -nostdin as well
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new Win32Exception($"cannot start {program}");
        p.StandardInput.Close();
        return new FfmpegProcess(p);
    }

    public Stream Stdout => _process.StandardOutput.BaseStream;
    public StreamReader Stderr => _process.StandardError;

    public int ExitCode => _process.ExitCode;

    /// <summary>Kills ffmpeg (safe from any thread, any number of times).</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
        catch (Win32Exception)
        {
            // exited while being killed
        }
    }

    /// <summary>Waits for exit; kills the process if it has not exited within <paramref name="grace"/>.</summary>
    public async Task WaitForExitAsync(TimeSpan grace)
    {
        using var cts = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
        // After SIGKILL the exit is immediate; waiting also reaps the child (no zombie).
        await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) Kill();
        await WaitForExitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _process.Dispose();
    }
}
