using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace CitySight.CameraSimulator.Tests;

/// <summary>The result of running ffmpeg or ffprobe.</summary>
public sealed record ToolRun(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:0.0} s: {Stderr.Trim()}";
}

/// <summary>One frame as ffmpeg's showinfo filter printed it.</summary>
public sealed record ShownFrame(int Index, double PtsTime, int Width, int Height, bool IsKey);

public static partial class Tools
{
    /// <summary>Shared between test runs (like the end-to-end tests' cache): clips are cut once per machine.</summary>
    public static string CacheDir { get; } = Path.Combine(Path.GetTempPath(), "citysight-tests", "simulator-cache");

    /// <summary>Runs a program to its end; kills it (and fails) when it outlives <paramref name="timeout"/>.</summary>
    public static async Task<ToolRun> RunAsync(string program, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var watch = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
            throw new TimeoutException($"{program} {string.Join(' ', psi.ArgumentList)} ran past {timeout.TotalSeconds} s: {await stderr}");
        }
        return new ToolRun(p.ExitCode, await stdout, await stderr, watch.Elapsed);
    }

    /// <summary>ffprobe over RTSP/TCP: codec and size of the first video stream (fails the test when it cannot).</summary>
    public static async Task<(string Codec, int Width, int Height)> ProbeAsync(string url)
    {
        var run = await FfprobeAsync(url);
        Assert.True(run.ExitCode == 0, $"ffprobe {url}: {run}");
        var m = Regex.Match(run.Stdout, @"codec_name=(\w+)\|width=(\d+)\|height=(\d+)");
        Assert.True(m.Success, $"ffprobe {url} printed: {run.Stdout}");
        return (m.Groups[1].Value, int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
    }

    public static Task<ToolRun> FfprobeAsync(string target, params string[] extra)
    {
        var args = new List<string> { "-v", "error" };
        if (target.StartsWith("rtsp://", StringComparison.Ordinal))
            args.AddRange(["-rtsp_transport", "tcp", "-timeout", "5000000"]); // socket timeout: 5 s, in µs
        args.AddRange(extra.Length > 0 ? extra : ["-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height", "-of", "compact=p=0"]);
        args.Add(target);
        return RunAsync("ffprobe", args, TimeSpan.FromSeconds(30));
    }

    /// <summary>Decodes <paramref name="seconds"/> of a stream (or file) and returns what showinfo saw.</summary>
    public static async Task<(ToolRun Run, IReadOnlyList<ShownFrame> Frames)> ShowInfoAsync(string url, double seconds, string[]? inputOptions = null)
    {
        var args = new List<string> { "-hide_banner", "-nostdin" };
        if (url.StartsWith("rtsp://", StringComparison.Ordinal)) args.AddRange(["-rtsp_transport", "tcp", "-timeout", "5000000"]);
        if (inputOptions is not null) args.AddRange(inputOptions);
        args.AddRange(["-i", url, "-t", seconds.ToString(CultureInfo.InvariantCulture), "-map", "0:v:0", "-vf", "showinfo", "-f", "null", "-"]);
        var run = await RunAsync("ffmpeg", args, TimeSpan.FromSeconds(seconds + 30));
        var frames = ShowInfoLine().Matches(run.Stderr).Select(m => new ShownFrame(
            int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture),
            double.Parse(m.Groups["t"].Value, CultureInfo.InvariantCulture),
            int.Parse(m.Groups["w"].Value, CultureInfo.InvariantCulture),
            int.Parse(m.Groups["h"].Value, CultureInfo.InvariantCulture),
            m.Groups["k"].Value == "1")).ToList();
        return (run, frames);
    }

    [GeneratedRegex(@"\bn:\s*(?<n>\d+)\s+pts:\s*-?\d+\s+pts_time:(?<t>-?[0-9.e+-]+).*?\bs:(?<w>\d+)x(?<h>\d+).*?\biskey:(?<k>[01])")]
    private static partial Regex ShowInfoLine();

    /// <summary>Sends one raw RTSP DESCRIBE and returns the status line and the body (the SDP).</summary>
    public static async Task<(string Status, string Body)> DescribeAsync(string url, TimeSpan timeout)
    {
        var uri = new Uri(url);
        using var cts = new CancellationTokenSource(timeout);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port, cts.Token);
        var stream = tcp.GetStream();
        var request = $"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\nUser-Agent: citysight-tests\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cts.Token);
        var received = new StringBuilder();
        var buffer = new byte[8192];
        while (true)
        {
            var text = received.ToString();
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                var length = Regex.Match(text[..end], @"(?im)^Content-Length:\s*(\d+)") is { Success: true } m
                    ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
                if (text.Length >= end + 4 + length)
                    return (text[..text.IndexOf("\r\n", StringComparison.Ordinal)], text.Substring(end + 4, length));
            }
            var n = await stream.ReadAsync(buffer, cts.Token);
            if (n == 0) throw new IOException($"connection closed after: {text}");
            received.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
    }

    /// <summary>Polls <paramref name="probe"/> until <paramref name="done"/> holds; fails with the last value after <paramref name="timeout"/>.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (done(value)) return value;
            if (deadline.Elapsed > timeout) throw new TimeoutException($"{what}: not reached within {timeout.TotalSeconds} s; last: {value}");
            await Task.Delay(100);
        }
    }
}
