using System.Diagnostics;

namespace CitySight.Tests;

/// <summary>
/// A real PostgreSQL 15 (Debian's `postgresql` package) for the tests: one server per test process, started on first
/// use in a fresh folder on a free loopback port and stopped when the process exits; each caller gets its own database.
/// PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (runuser), which owns its folder.
/// </summary>
public static class PostgresServer
{
    /// <summary>Where Debian puts the server's programs; CITYSIGHT_PG_BIN overrides.</summary>
    public static string BinDir { get; } = Environment.GetEnvironmentVariable("CITYSIGHT_PG_BIN") is { Length: > 0 } bin ? bin : "/usr/lib/postgresql/15/bin";

    private static readonly Lazy<Instance> Server = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);
    private static int _databases;

    /// <summary>The server's loopback port.</summary>
    public static int Port => Server.Value.Port;

    /// <summary>A new empty database on the shared server: its Npgsql connection string (trust authentication, loopback only).</summary>
    public static string NewDatabase(string prefix = "t")
    {
        var server = Server.Value;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefix.Length, 24);
        var name = $"{prefix}_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}".ToLowerInvariant(); // at most 63 characters
        Run(server.AsOwner, Path.Combine(BinDir, "createdb"), "-h", "127.0.0.1", "-p", server.Port.ToString(), "-U", "postgres", name);
        return ConnectionString(name);
    }

    /// <summary>The connection string of database <paramref name="name"/> on the shared server.</summary>
    public static string ConnectionString(string name) =>
        $"Host=127.0.0.1;Port={Server.Value.Port};Username=postgres;Database={name};Pooling=true;Timeout=15;Command Timeout=60";

    private sealed record Instance(string Folder, int Port, bool AsOwner);

    private static Instance Start()
    {
        var initdb = Path.Combine(BinDir, "initdb");
        if (!File.Exists(initdb))
            throw new InvalidOperationException($"PostgreSQL not found: {initdb} is missing (Debian package `postgresql`; scripts/setup.sh installs it, or set CITYSIGHT_PG_BIN)");
        var root = Environment.IsPrivilegedProcess;
        // Not under /tmp/citysight-tests of the other tests (their folders may be removed while the server runs).
        var folder = Path.Combine(Path.GetTempPath(), $"citysight-pg-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        if (root) Run(false, "chown", "postgres:postgres", folder);
        var data = Path.Combine(folder, "data");
        Run(root, initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync");
        var port = TestPorts.Free();
        // fsync stays on: the store's durability is what some tests are about. The socket lives in the folder, not /run.
        Run(root, Path.Combine(BinDir, "pg_ctl"), "-D", data, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60",
            "-o", $"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=64MB", "start");
        var instance = new Instance(folder, port, root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop(instance, data);
        return instance;
    }

    private static void Stop(Instance instance, string data)
    {
        try
        {
            Run(instance.AsOwner, Path.Combine(BinDir, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop");
        }
        catch (Exception)
        {
            // The process is ending; a server left behind dies with the folder's removal below at worst.
        }
        try { Directory.Delete(instance.Folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void Run(bool asPostgres, string program, params string[] args)
    {
        var psi = new ProcessStartInfo(asPostgres ? "runuser" : program) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (asPostgres)
        {
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add("postgres");
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(program);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} ran over 120 s");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited with {p.ExitCode}: {stderr.Result}{stdout.Result}");
    }
}
