using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipes;
using System.Net.Sockets;
using System.Runtime.InteropServices;
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
    // The pipes read through a Socket over their descriptors: PipeStream does the same internally on Unix, but wraps each
    // read in an async method whose state machine is allocated per read (~145 B, some 35 reads per 1 MB frame); the
    // Socket's own awaitable is reused. Null where that is not possible: the streams are read instead.
    private readonly Socket? _stdoutPipe, _stderrPipe;

    private FfmpegProcess(Process process)
    {
        _process = process;
        _stdoutPipe = PipeSocket(process.StandardOutput.BaseStream);
        _stderrPipe = PipeSocket(process.StandardError.BaseStream);
    }

    private static Socket? PipeSocket(Stream stream)
    {
        if (OperatingSystem.IsWindows() || stream is not PipeStream pipe) return null;
        try
        {
            return new Socket(new SafeSocketHandle(pipe.SafePipeHandle.DangerousGetHandle(), ownsHandle: false));
        }
        catch (Exception e) when (e is SocketException or PlatformNotSupportedException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Reads what stdout has (at most the buffer); 0 at its end. Throws IOException or SocketException on a torn pipe.</summary>
    public ValueTask<int> ReadStdoutAsync(Memory<byte> buffer) =>
        _stdoutPipe is { } s ? s.ReceiveAsync(buffer, SocketFlags.None) : Stdout.ReadAsync(buffer);

    /// <inheritdoc cref="ReadStdoutAsync"/>
    public ValueTask<int> ReadStderrAsync(Memory<byte> buffer) =>
        _stderrPipe is { } s ? s.ReceiveAsync(buffer, SocketFlags.None) : Stderr.ReadAsync(buffer);

    /// <summary>Starts the program with <paramref name="command"/>'s arguments; its stdin text, if any, is written and stdin closed.</summary>
    public static FfmpegProcess Start(string program, FfmpegCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true, // never inherit ours; ffmpeg gets -nostdin as well
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardErrorEncoding = Encoding.UTF8,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), // a BOM would spoil the script's header
        };
        foreach (var a in command.Arguments) psi.ArgumentList.Add(a);
        ChildEnvironment.Apply(psi.Environment);
        var p = Process.Start(psi) ?? throw new Win32Exception($"cannot start {program}");
        try
        {
            // A few hundred bytes: the pipe takes them at once, whether or not ffmpeg is reading yet.
            if (command.Stdin is { } text) p.StandardInput.Write(text);
            p.StandardInput.Close();
        }
        catch (IOException)
        {
            // ffmpeg died before reading (a wrong program, say): its exit code and stderr tell why
        }
        return new FfmpegProcess(p);
    }

    public Stream Stdout => _process.StandardOutput.BaseStream;

    /// <summary>stderr as bytes (<see cref="ShowInfoReader"/> splits the lines itself, without a string per line).</summary>
    public Stream Stderr => _process.StandardError.BaseStream;

    public int ExitCode => _process.ExitCode;

    /// <summary>Kills ffmpeg (safe from any thread, any number of times).</summary>
    public void Kill()
    {
        try
        {
            // The process alone: ffmpeg starts no children, and a whole-tree kill would walk every process in /proc
            // (thousands of file reads, ~0.7 MB of garbage, on a host running 1000 ffmpegs) for each snapshot or reconnect.
            if (!_process.HasExited) _process.Kill();
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

    /// <summary>
    /// CPU time (user + system) the process has used so far, from /proc/PID/stat; null once it has exited or where there is
    /// no /proc. Sampled while it runs: after exit the kernel keeps no per-child figure we could read.
    /// </summary>
    public TimeSpan? CpuTime()
    {
        try
        {
            if (_process.HasExited) return null;
            return ProcStat.CpuTime(_process.Id);
        }
        catch (InvalidOperationException)
        {
            return null;
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
        // Before the process closes the descriptors these sockets borrow.
        _stdoutPipe?.Dispose();
        _stderrPipe?.Dispose();
        _process.Dispose();
    }
}

/// <summary>An ffmpeg command line and what its stdin gets (a concat script naming a secret URL), or null for nothing.</summary>
internal sealed record FfmpegCommand(IReadOnlyList<string> Arguments, string? Stdin = null);

/// <summary>Reads a process's CPU time from Linux's /proc.</summary>
internal static class ProcStat
{
    private const int ScClkTck = 2; // sysconf(_SC_CLK_TCK) on Linux

    [DllImport("libc", EntryPoint = "sysconf")]
    private static extern long SysConf(int name);

    private static readonly long TicksPerSecond = GetClockTicks();

    private static long GetClockTicks()
    {
        try
        {
            var t = OperatingSystem.IsLinux() ? SysConf(ScClkTck) : 0;
            return t > 0 ? t : 100;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return 100; // USER_HZ on every mainstream Linux
        }
    }

    public static TimeSpan? CpuTime(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return Parse(stat, TicksPerSecond);
    }

    /// <summary>utime + stime (fields 14 and 15); the command name (field 2) may hold spaces, so count after its ')'.</summary>
    internal static TimeSpan? Parse(string stat, long ticksPerSecond)
    {
        var close = stat.LastIndexOf(')');
        if (close < 0) return null;
        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state): utime is field 14 → index 11, stime → index 12
        if (fields.Length < 13 ||
            !long.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out var utime) ||
            !long.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out var stime))
            return null;
        return TimeSpan.FromSeconds((utime + stime) / (double)ticksPerSecond);
    }
}
