using System.Globalization;
using System.Text;

namespace CitySight.Ingest.Tests;

/// <summary>An ffmpeg child of this test process, as one scan saw it.</summary>
/// <param name="ConnectedTo">Whether one of its sockets is connected to the port the scan was asked about.</param>
internal sealed record FfmpegChild(int Pid, string CommandLine, bool ConnectedTo);

/// <summary>
/// Reads every process's /proc/PID/cmdline and /proc/PID/environ, as any local user (here: root) could, looking for
/// secrets; and finds this process's ffmpeg children with the sockets they hold (Linux only).
/// </summary>
internal static class ProcessScan
{
    /// <summary>"pid file: name" for each secret found in a readable command line or environment.</summary>
    public static List<string> FindSecrets(IReadOnlyDictionary<string, string> secrets)
    {
        var found = new List<string>();
        foreach (var (pid, dir) in Processes())
            foreach (var file in new[] { "cmdline", "environ" })
            {
                var text = Read(Path.Combine(dir, file));
                if (text is null) continue;
                foreach (var (name, secret) in secrets)
                    if (text.Contains(secret, StringComparison.Ordinal))
                        found.Add($"{pid} ({Read(Path.Combine(dir, "comm"))?.Trim()}) {file}: {name}");
            }
        return found;
    }

    /// <summary>This process's children running ffmpeg, and whether each talks to <paramref name="port"/> on loopback.</summary>
    public static List<FfmpegChild> FfmpegChildren(int port)
    {
        var self = Environment.ProcessId;
        var children = new List<(int Pid, string Cmd, HashSet<string> Sockets)>();
        foreach (var (pid, dir) in Processes())
        {
            var stat = Read(Path.Combine(dir, "stat"));
            if (stat is null || !stat.Contains("(ffmpeg)", StringComparison.Ordinal)) continue;
            // "pid (comm) state ppid …": the fields after the command name's ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields.Length < 2 || fields[1] != self.ToString(CultureInfo.InvariantCulture)) continue;
            children.Add((pid, Read(Path.Combine(dir, "cmdline")) ?? "", SocketInodes(dir)));
        }
        if (children.Count == 0) return [];
        var toPort = InodesConnectedTo(port);
        return children.Select(c => new FfmpegChild(c.Pid, c.Cmd, c.Sockets.Overlaps(toPort))).ToList();
    }

    private static IEnumerable<(int Pid, string Dir)> Processes()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                yield return (pid, dir);
    }

    /// <summary>The file with NULs as spaces; null when it cannot be read (the process is gone, or not ours to read).</summary>
    private static string? Read(string path)
    {
        try
        {
            return Encoding.UTF8.GetString(File.ReadAllBytes(path)).Replace('\0', ' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>"socket:[12345]" links under /proc/PID/fd → their inodes.</summary>
    private static HashSet<string> SocketInodes(string dir)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(dir, "fd")))
            {
                var target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal)) inodes.Add(target[8..^1]);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return inodes;
    }

    /// <summary>Inodes of TCP sockets whose remote port is <paramref name="port"/> (/proc/net/tcp and tcp6).</summary>
    private static HashSet<string> InodesConnectedTo(int port)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        var hexPort = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            var text = Read(table);
            if (text is null) continue;
            // "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …"
            foreach (var line in text.Split('\n').Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length > 9 && f[2].EndsWith(hexPort, StringComparison.Ordinal)) inodes.Add(f[9]);
            }
        }
        return inodes;
    }
}
