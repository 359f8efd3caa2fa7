namespace CitySight.Tests;

/// <summary>Finds the repository and the shared real assets (../shared/assets beside the checkout).</summary>
public static class TestAssets
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Root { get; } =
        Environment.GetEnvironmentVariable("CITYSIGHT_ASSETS") is { Length: > 0 } env
            ? env
            : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "assets"));

    public static string Model(string file) => Existing(Path.Combine(Root, "models", file));
    public static string Media(string file) => Existing(Path.Combine(Root, "media", file));

    /// <summary>A fresh empty folder under the system temp folder, for one test.</summary>
    public static string TempDir(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), "citysight-tests", $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string Existing(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"test asset missing: {path} (expected ../shared/assets beside the checkout, or set CITYSIGHT_ASSETS)");

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "CitySight.sln"))) return d.FullName;
        throw new InvalidOperationException("CitySight.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>Loopback TCP ports for servers a test starts.</summary>
public static class TestPorts
{
    /// <summary>A port nothing listens on right now (the OS's pick; free again the moment this returns).</summary>
    public static int Free()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
