using System.Collections.Concurrent;
using System.Threading.Channels;
using CitySight.Domain;
using CitySight.Ingest;
using Microsoft.Extensions.Logging;

namespace CitySight.Ingest.Tests;

/// <summary>An ILogger that keeps every message, formatted and with its structured values, for assertions.</summary>
internal sealed class CapturingLogger : ILogger
{
    public ConcurrentQueue<string> Messages { get; } = new();

    public IDisposable BeginScope<TState>(TState state) => NoScope.Instance;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        var text = $"{logLevel}: {formatter(state, exception)}";
        if (state is IEnumerable<KeyValuePair<string, object?>> values)
            text += " | " + string.Join(", ", values.Select(kv => $"{kv.Key}={kv.Value}"));
        if (exception is not null) text += " | " + exception;
        Messages.Enqueue(text);
    }

    public string All => string.Join(Environment.NewLine, Messages);

    private sealed class NoScope : IDisposable
    {
        public static readonly NoScope Instance = new();
        public void Dispose() { }
    }
}

internal static class Wait
{
    public static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

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
