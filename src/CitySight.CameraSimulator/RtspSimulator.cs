using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace CitySight.CameraSimulator;

/// <summary>
/// A real RTSP server (GStreamer, rtsp_simulator.py) serving video files as looping H.264 camera streams.
/// Used by tests and the demo. The server process is killed on dispose and also exits by itself when
/// this process dies (it watches the stdin pipe we hold).
/// </summary>
public sealed class RtspSimulator : IAsyncDisposable
{
    private readonly SimulatorOptions _options;
    private readonly IReadOnlyList<string> _arguments;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Process? _process;
    private Task? _stderrPump;
    private readonly Queue<string> _stderrTail = new();
    private bool _disposed;

    private RtspSimulator(SimulatorOptions options, IReadOnlyList<string> arguments, int port)
    {
        _options = options;
        _arguments = arguments;
        Port = port;
    }

    /// <summary>The port the server listens on (the one it picked when asked for port 0).</summary>
    public int Port { get; private set; }

    /// <summary>Whether the server process is running.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The server's process id while it runs (for fault tests), else null.</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    public string UrlFor(string mount) => $"rtsp://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/{mount.TrimStart('/')}";

    /// <summary>Transcodes sources that need it, starts the server and waits for it to listen.</summary>
    public static async Task<RtspSimulator> StartAsync(SimulatorOptions options, CancellationToken ct = default)
    {
        if (options.Mounts.Count == 0 && options.StallMounts.Count == 0)
            throw new ArgumentException("the simulator needs at least one mount", nameof(options));

        var script = options.ScriptPath ?? Path.Combine(AppContext.BaseDirectory, "rtsp_simulator.py");
        if (!File.Exists(script)) throw new FileNotFoundException($"simulator script not found: {script}", script);

        var args = new List<string> { script };
        foreach (var mount in options.Mounts)
        {
            var h264 = await H264Cache.EnsureH264Async(mount.VideoPath, options.CacheDir, options.KeyframeInterval,
                options.FfmpegPath, ct).ConfigureAwait(false);
            args.Add("--mount");
            args.Add($"{mount.Name.Trim('/')}={h264}");
        }
        foreach (var name in options.StallMounts)
        {
            args.Add("--stall");
            args.Add(name.Trim('/'));
        }
        args.AddRange(["--fps", options.FrameRate.ToString(CultureInfo.InvariantCulture),
            "--gop", options.KeyframeInterval.ToString(CultureInfo.InvariantCulture)]);

        var sim = new RtspSimulator(options, args, options.Port);
        try
        {
            await sim.LaunchAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await sim.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return sim;
    }

    /// <summary>Kills the server (a camera that vanishes): clients see their connection drop.</summary>
    public async Task StopAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try { await KillAsync().ConfigureAwait(false); }
        finally { _gate.Release(); }
    }

    /// <summary>
    /// Freezes the server (SIGSTOP): connections stay open but nothing more is sent or answered —
    /// a camera that hangs mid-stream. <see cref="Resume"/> thaws it.
    /// </summary>
    public void Pause() => Signal(SigStop);

    public void Resume() => Signal(SigCont);

    private const int SigCont = 18, SigStop = 19; // Linux numbering

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int SysKill(int pid, int signal);

    private void Signal(int signal)
    {
        var pid = ProcessId ?? throw new InvalidOperationException("the simulator is not running");
        if (SysKill(pid, signal) != 0)
            throw new InvalidOperationException($"cannot signal the simulator (errno {Marshal.GetLastPInvokeError()})");
    }

    /// <summary>Starts the server again on the same port (after <see cref="StopAsync"/>, or kills and restarts it).</summary>
    public async Task RestartAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await KillAsync().ConfigureAwait(false);
            await LaunchCoreAsync(ct).ConfigureAwait(false);
        }
        finally { _gate.Release(); }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _gate.WaitAsync().ConfigureAwait(false);
        try { await KillAsync().ConfigureAwait(false); }
        finally { _gate.Release(); }
    }

    private async Task LaunchAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try { await LaunchCoreAsync(ct).ConfigureAwait(false); }
        finally { _gate.Release(); }
    }

    private async Task LaunchCoreAsync(CancellationToken ct)
    {
        var psi = new ProcessStartInfo(_options.PythonPath)
        {
            RedirectStandardInput = true, // held open: EOF tells the server we are gone
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        psi.ArgumentList.Add("-u");
        foreach (var a in _arguments) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("--port");
        psi.ArgumentList.Add(Port.ToString(CultureInfo.InvariantCulture));

        lock (_stderrTail) _stderrTail.Clear();
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {_options.PythonPath}");
        _process = process;
        _stderrPump = PumpStderrAsync(process);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.StartTimeout);
        try
        {
            while (true)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false);
                if (line is null)
                {
                    // stdout closed before READY: the server died; its stderr says why.
                    await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                    await _stderrPump.ConfigureAwait(false);
                    throw new InvalidOperationException(
                        $"RTSP simulator exited (code {process.ExitCode}) before it was ready: {StderrTail()}");
                }
                if (line.StartsWith("READY ", StringComparison.Ordinal) &&
                    int.TryParse(line.AsSpan(6).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var port))
                {
                    Port = port;
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            await KillAsync().ConfigureAwait(false);
            throw new TimeoutException(
                $"RTSP simulator was not ready within {_options.StartTimeout.TotalSeconds:0.#} s: {StderrTail()}");
        }
        catch
        {
            await KillAsync().ConfigureAwait(false);
            throw;
        }
        // Nothing else is printed on stdout, but keep it drained so the server can never block on it.
        _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None);
    }

    private async Task PumpStderrAsync(Process p)
    {
        try
        {
            while (await p.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                lock (_stderrTail)
                {
                    _stderrTail.Enqueue(line);
                    while (_stderrTail.Count > 40) _stderrTail.Dequeue();
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // the process went away under us
        }
    }

    private string StderrTail()
    {
        lock (_stderrTail)
            return _stderrTail.Count == 0 ? "(no stderr output)" : string.Join(Environment.NewLine, _stderrTail);
    }

    private async Task KillAsync()
    {
        var p = _process;
        _process = null;
        if (p is null) return;
        try
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // exited between the check and the kill
        }
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            try { await p.WaitForExitAsync(wait.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { /* a process that ignores SIGKILL is beyond help */ }
        }
        if (_stderrPump is { } pump)
        {
            try { await pump.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); }
            catch (TimeoutException) { }
        }
        p.Dispose();
    }
}
