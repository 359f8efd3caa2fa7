using System.Threading.Channels;
using CitySight.Domain;

namespace CitySight.Ingest.Tests;

internal static class StreamWait
{
    public static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    /// <summary>Runs the source until it is Offline, then stops it (it must end by cancellation); the Offline status.</summary>
    public static async Task<CameraStatus> UntilOfflineAsync(CameraSource source)
    {
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(System.Threading.Channels.Channel.CreateUnbounded<Frame>().Writer, cts.Token);
        try
        {
            return await ForStatusAsync(source, s => s.State == CameraState.Offline, Long, "offline");
        }
        finally
        {
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        }
    }

    /// <summary>Waits, on the source's StatusChanged events, until the predicate holds.</summary>
    public static async Task<CameraStatus> ForStatusAsync(CameraSource source, Func<CameraStatus, bool> predicate,
        TimeSpan timeout, string what)
    {
        var tcs = new TaskCompletionSource<CameraStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(CameraSource _, CameraStatus s)
        {
            if (predicate(s)) tcs.TrySetResult(s);
        }

        source.StatusChanged += OnChanged;
        try
        {
            var now = source.Status;
            if (predicate(now)) return now;
            return await tcs.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"camera {source.Camera.Id}: not {what} within {timeout.TotalSeconds} s; status: {source.Status}");
        }
        finally
        {
            source.StatusChanged -= OnChanged;
        }
    }

    /// <summary>Reads the next frame of a given camera from a shared channel (disposing other cameras' frames).</summary>
    public static async Task<Frame> ForFrameAsync(ChannelReader<Frame> reader, string cameraId, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var f = await reader.ReadAsync(cts.Token);
                if (f.CameraId == cameraId) return f;
                f.Dispose();
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no frame from {cameraId} within {timeout.TotalSeconds} s");
        }
    }

    public static void Drain(ChannelReader<Frame> reader)
    {
        while (reader.TryRead(out var f)) f.Dispose();
    }
}

internal static class ChildProcesses
{
    /// <summary>Process ids whose command line contains the text (Linux /proc).</summary>
    public static IReadOnlyList<int> WithCommandLineContaining(string text)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var cmd = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmd.Contains(text, StringComparison.Ordinal)) found.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }

    /// <summary>Whether the pid exists at all — a zombie (exited, not reaped) still does.</summary>
    public static bool Exists(int pid) => Directory.Exists($"/proc/{pid}");
}

internal static class Cameras
{
    public static Camera For(string url, TimeSpan interval, string? id = null, bool realTime = true, bool loop = false) => new()
    {
        Id = id ?? $"cam-{Guid.NewGuid():N}"[..12],
        Name = "test camera",
        GroupId = "test-group",
        Url = url,
        SampleInterval = interval,
        RealTime = realTime,
        Loop = loop,
    };
}

/// <summary>
/// A minimal RTSP server that answers every request with 401 Unauthorized (Basic), like a camera with other credentials.
/// Real enough for ffmpeg: it sends DESCRIBE, gets 401, retries with the URL's credentials, gets 401 again and gives up.
/// </summary>
internal sealed class Rtsp401Server : IAsyncDisposable
{
    private readonly System.Net.Sockets.TcpListener _listener = new(System.Net.IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _authorizationHeaders;

    public Rtsp401Server()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((System.Net.IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Requests that carried credentials (ffmpeg did try the URL's password).</summary>
    public int AuthorizationHeaders => Volatile.Read(ref _authorizationHeaders);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = ServeAsync(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or System.Net.Sockets.SocketException or ObjectDisposedException) { }
    }

    private async Task ServeAsync(System.Net.Sockets.TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                using var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
                while (true)
                {
                    string? line;
                    var cseq = "0";
                    var sawAny = false;
                    while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync(_stop.Token)))
                    {
                        sawAny = true;
                        if (line.StartsWith("CSeq:", StringComparison.OrdinalIgnoreCase)) cseq = line[5..].Trim();
                        if (line.StartsWith("Authorization:", StringComparison.OrdinalIgnoreCase)) Interlocked.Increment(ref _authorizationHeaders);
                    }
                    if (line is null || !sawAny) return;
                    var reply = $"RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\nWWW-Authenticate: Basic realm=\"CitySight test\"\r\nContent-Length: 0\r\n\r\n";
                    await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(reply), _stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
    }
}

/// <summary>A stand-in for the ffmpeg program that only records that it was run (then fails).</summary>
internal sealed class RecordingFfmpeg
{
    public RecordingFfmpeg()
    {
        var dir = CitySight.Tests.TestAssets.TempDir("fake-ffmpeg");
        Marker = Path.Combine(dir, "ran");
        Program = Path.Combine(dir, "ffmpeg");
        File.WriteAllText(Program, $"#!/bin/sh\necho run >> '{Marker}'\necho 'fake ffmpeg: nothing here' >&2\nexit 1\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(Program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Program { get; }
    public string Marker { get; }
    public bool Ran => File.Exists(Marker);
}

internal static class MetricsText
{
    /// <summary>The default registry as Prometheus scrapes it (before-collect callbacks included).</summary>
    public static async Task<string> ScrapeAsync()
    {
        using var ms = new MemoryStream();
        await Prometheus.Metrics.DefaultRegistry.CollectAndExportAsTextAsync(ms);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>The value of one series, e.g. Value(text, "citysight_camera_state", ("camera", "c1"), ("state", "stalled")).</summary>
    public static double? Value(string text, string name, params (string Label, string Value)[] labels)
    {
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(name + "{", StringComparison.Ordinal)) continue;
            var close = line.LastIndexOf('}');
            var set = line[(name.Length + 1)..close];
            if (labels.All(l => set.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal)))
                return double.Parse(line[(close + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        return null;
    }
}

/// <summary>Runs the ffmpeg program for test fixtures.</summary>
internal static class Ffmpeg
{
    public static async Task RunAsync(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("ffmpeg")
        {
            RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true,
        };
        foreach (var a in new[] { "-hide_banner", "-nostdin", "-loglevel", "error", "-y" }.Concat(args)) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"ffmpeg {string.Join(' ', args)}: {await err}");
    }

    /// <summary>Decodes frame <paramref name="frameNumber"/> of a file on its own, as BGR24 bytes.</summary>
    public static Task<byte[]> DecodeFrameAsync(string path, int frameNumber) =>
        DecodeAsync("-i", path, "-vf", $"select=eq(n\\,{frameNumber})", "-frames:v", "1");

    /// <summary>Every frame of a file, each at its own size, as BGR24 bytes one after the other.</summary>
    public static Task<byte[]> DecodeAllAsync(string path) => DecodeAsync("-i", path);

    private static async Task<byte[]> DecodeAsync(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("ffmpeg") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { "-hide_banner", "-nostdin", "-loglevel", "error" }.Concat(args)
                     .Concat(["-autoscale", "0", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1"]))
            psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        using var ms = new MemoryStream();
        await p.StandardOutput.BaseStream.CopyToAsync(ms);
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException(await err);
        return ms.ToArray();
    }

    public static double MeanAbsoluteDifference(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length) return double.PositiveInfinity;
        double sum = 0;
        for (var i = 0; i < a.Length; i++) sum += Math.Abs(a[i] - b[i]);
        return sum / a.Length;
    }
}

/// <summary>
/// A real clip whose resolution changes mid-stream: the first 2 s of the parking clip at 640x480, then the next 2 s at
/// 320x240, each encoded to H.264 (a keyframe every 10 frames) and concatenated as one Annex B stream. Made once per run.
/// </summary>
internal static class ResolutionChangeClip
{
    private static readonly Lazy<Task<string>> Clip = new(CreateAsync);

    public const int FramesPerPart = 40; // 2 s at 20 fps

    public static Task<string> PathAsync() => Clip.Value;

    private static async Task<string> CreateAsync()
    {
        var source = CitySight.Tests.TestAssets.Media("parking-lot-cctv-640x480.mp4");
        var dir = CitySight.Tests.TestAssets.TempDir("reschange");
        var a = Path.Combine(dir, "a.h264");
        var b = Path.Combine(dir, "b.h264");
        string[] encode = ["-an", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-bf", "0", "-f", "h264"];
        await Ffmpeg.RunAsync(["-i", source, "-t", "2", .. encode, a]);
        await Ffmpeg.RunAsync(["-ss", "2", "-i", source, "-t", "2", "-vf", "scale=320:240", .. encode, b]);
        var clip = Path.Combine(dir, "640-then-320.h264");
        await using (var output = File.Create(clip))
        {
            foreach (var part in new[] { a, b })
                await using (var input = File.OpenRead(part)) await input.CopyToAsync(output);
        }
        return clip;
    }
}
