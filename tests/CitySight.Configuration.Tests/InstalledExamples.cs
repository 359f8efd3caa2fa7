using CitySight.Tests;

namespace CitySight.Configuration.Tests;

/// <summary>configs/examples copied as an operator installs them (under /etc/citysight/), with placeholder TLS files beside them.</summary>
internal static class InstalledExamples
{
    public static string Copy(string prefix)
    {
        var dir = TestAssets.TempDir(prefix);
        var examples = Path.Combine(TestAssets.RepoRoot, "configs", "examples");
        foreach (var file in Directory.EnumerateFiles(examples, "*.yaml", SearchOption.AllDirectories))
        {
            var to = Path.Combine(dir, Path.GetRelativePath(examples, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        Directory.CreateDirectory(Path.Combine(dir, "tls"));
        File.WriteAllText(Path.Combine(dir, "tls", "citysight.crt"), "placeholder");
        File.WriteAllText(Path.Combine(dir, "tls", "citysight.key"), "placeholder");
        return dir;
    }
}
