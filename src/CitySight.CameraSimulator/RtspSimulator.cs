using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace CitySight.CameraSimulator;

/// <summary>
/// A real RTSP server (GStreamer, rtsp_simulator.py) serving video files as looping H.264 camera streams.
/// Used by tests, the demo and ingest benchmarks: one process serves 1000+ mounts, each distinct file is read
/// once (passed through, not re-encoded) and only mounts that have a client cost anything.
/// The server process is killed on dispose and also exits by itself when this process dies (it watches the
/// stdin pipe we hold; the configuration, credentials included, goes to it through that pipe, not argv).
/// </summary>
public sealed class RtspSimulator : IAsyncDisposable
{
    private readonly SimulatorOptions _options;
    private readonly IReadOnlyList<string> _arguments;
    private readonly string _config;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Process? _process;
    private Task? _stderrPump;
    private readonly Queue<string> _stderrTail = new();
    private bool _disposed;
    private readonly SemaphoreSlim _statsGate = new(1, 1);
    private readonly Lock _statsLock = new();
    private (string Id, TaskCompletionSource<string> Reply)? _statsRequest;
    private long _statsCount;

    private RtspSimulator(SimulatorOptions options, IReadOnlyList<string> arguments, string config, int port)
    {
        _options = options;
        _arguments = arguments;
        _config = config;
        Port = port;
    }

    /// <summary>The port the server listens on (the one it picked when asked for port 0).</summary>
    public int Port { get; private set; }

    /// <summary>Whether the server process is running.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The server's process id while it runs (for fault tests), else null.</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    public string UrlFor(string mount) => UrlFor(mount, withCredentials: false);

    /// <summary>
    /// The mount's URL; with <paramref name="withCredentials"/>, rtsp://user:password@127.0.0.1:PORT/mount
    /// (escaped) using <see cref="SimulatorOptions.Credentials"/>.
    /// </summary>
    public string UrlFor(string mount, bool withCredentials)
    {
        var userInfo = "";
        if (withCredentials)
        {
            var c = _options.Credentials ?? throw new InvalidOperationException("the simulator has no credentials configured");
            userInfo = $"{Uri.EscapeDataString(c.User)}:{Uri.EscapeDataString(c.Password)}@";
        }
        return $"rtsp://{userInfo}127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/{mount.TrimStart('/')}";
    }

    /// <summary>Transcodes sources that need it (once per distinct file), starts the server and waits for it to listen.</summary>
    public static async Task<RtspSimulator> StartAsync(SimulatorOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Mounts.Count == 0 && options.StallMounts.Count == 0)
            throw new ArgumentException("the simulator needs at least one mount", nameof(options));
        var names = options.Mounts.Select(m => m.Name).Concat(options.StallMounts).Select(n => n.Trim('/')).ToList();
        if (names.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("a mount has an empty name", nameof(options));
        if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } dup)
            throw new ArgumentException($"mount {dup.Key} is declared more than once", nameof(options));
        if (options.Credentials is { } cred && (string.IsNullOrEmpty(cred.User) || cred.User.Contains(':', StringComparison.Ordinal)))
            throw new ArgumentException("the user name must be non-empty and contain no ':'", nameof(options));

        var script = options.ScriptPath ?? Path.Combine(AppContext.BaseDirectory, "rtsp_simulator.py");
        if (!File.Exists(script)) throw new FileNotFoundException($"simulator script not found: {script}", script);

        // One probe (and at most one transcode) per distinct file, however many mounts serve it.
        var served = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in options.Mounts.Select(m => Path.GetFullPath(m.VideoPath)).Distinct(StringComparer.Ordinal))
            served[path] = await H264Cache.EnsureH264Async(path, options.CacheDir, options.KeyframeInterval,
                options.FfmpegPath, ct).ConfigureAwait(false);

        var config = JsonSerializer.Serialize(new
        {
            mounts = options.Mounts.Select(m => new { name = m.Name.Trim('/'), file = served[Path.GetFullPath(m.VideoPath)] }),
            stall = options.StallMounts.Select(n => n.Trim('/')),
            auth = options.Credentials is { } c ? new { user = c.User, password = c.Password } : null,
        });
        var args = new List<string>
        {
            script, "--config", "-",
            "--fps", options.FrameRate.ToString(CultureInfo.InvariantCulture),
            "--gop", options.KeyframeInterval.ToString(CultureInfo.InvariantCulture),
        };

        var sim = new RtspSimulator(options, args, config, options.Port);
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
        try
        {
            // The script reads its configuration (`--config -`) as the first line of stdin.
            await process.StandardInput.WriteLineAsync(_config.AsMemory(), ct).ConfigureAwait(false);
            await process.StandardInput.FlushAsync(ct).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // it died at once; the READY loop below reports why
        }

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
        // Keep stdout drained so the server can never block on it; it carries the answers to `stats`.
        _ = PumpStdoutAsync(process);
    }

    /// <summary>What the server is doing now: how many mounts have a client, frames pushed, loops made.</summary>
    public async Task<SimulatorStats> GetStatsAsync(CancellationToken ct = default)
    {
        await _statsGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var process = _process ?? throw new InvalidOperationException("the simulator is not running");
            var id = Interlocked.Increment(ref _statsCount).ToString(CultureInfo.InvariantCulture);
            var reply = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_statsLock) _statsRequest = (id, reply);
            await process.StandardInput.WriteLineAsync($"stats {id}".AsMemory(), ct).ConfigureAwait(false);
            await process.StandardInput.FlushAsync(ct).ConfigureAwait(false);
            // A frozen (paused) server does not answer: the caller's token bounds the wait.
            var json = await reply.Task.WaitAsync(ct).ConfigureAwait(false);
            return JsonSerializer.Deserialize<SimulatorStats>(json, StatsJson)
                   ?? throw new InvalidDataException($"unexpected stats from the simulator: {json}");
        }
        finally
        {
            lock (_statsLock) _statsRequest = null;
            _statsGate.Release();
        }
    }

    private static readonly JsonSerializerOptions StatsJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private async Task PumpStdoutAsync(Process p)
    {
        try
        {
            while (await p.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (!line.StartsWith("STATS ", StringComparison.Ordinal)) continue;
                var json = line[6..];
                using var doc = JsonDocument.Parse(json);
                var id = doc.RootElement.TryGetProperty("id", out var e) ? e.GetString() : null;
                lock (_statsLock)
                    if (_statsRequest is { } request && request.Id == id)
                        request.Reply.TrySetResult(json);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or JsonException)
        {
            // the process went away under us (or printed something that is not ours to parse)
        }
        // A request made to this process will get no answer (one made to a restarted process still may).
        if (_process is null || ReferenceEquals(_process, p))
            lock (_statsLock) _statsRequest?.Reply.TrySetException(new InvalidOperationException("the simulator's output ended"));
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
