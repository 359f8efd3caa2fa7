using System.Diagnostics;

namespace CitySight.Rules.Tests;

/// <summary>
/// A size-limited tmpfs mounted on a fresh folder for one test, unmounted on dispose: a real file system that fills up
/// (ENOSPC for files and SQLite alike). Needs the right to mount (root, or CAP_SYS_ADMIN in a container).
/// </summary>
internal sealed class SmallFileSystem : IDisposable
{
    private SmallFileSystem(string path) => Path = path;

    public string Path { get; }

    /// <summary>Null when this machine lets tests mount a tmpfs; else why not (the reason a test is skipped with).</summary>
    public static string? Unavailable { get; } = Probe();

    public static SmallFileSystem Mount(string folder, int megabytes)
    {
        Directory.CreateDirectory(folder);
        var (ok, error) = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", folder);
        if (!ok) throw new InvalidOperationException($"mount tmpfs on {folder}: {error}");
        return new SmallFileSystem(folder);
    }

    /// <summary>Writes a filler file until the file system has at most <paramref name="leaveBytes"/> free (0: until ENOSPC).</summary>
    public string Fill(long leaveBytes)
    {
        var filler = System.IO.Path.Combine(Path, "filler");
        var chunk = new byte[64 * 1024];
        using var fs = new FileStream(filler, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        try
        {
            while (new DriveInfo(Path).AvailableFreeSpace > leaveBytes)
            {
                var room = new DriveInfo(Path).AvailableFreeSpace - leaveBytes;
                fs.Write(chunk, 0, (int)Math.Min(chunk.Length, Math.Max(room, 1)));
                fs.Flush();
            }
        }
        catch (IOException) when (leaveBytes == 0) { }   // full: what was asked
        return filler;
    }

    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    /// <summary>
    /// Makes <paramref name="folder"/> (inside this file system) read-only through a bind mount on itself, as a disk
    /// remounted read-only after an error looks to a writer (EROFS); the dispose of what is returned makes it writable again.
    /// </summary>
    public IDisposable ReadOnly(string folder)
    {
        Check(Run("mount", "--bind", folder, folder), "bind");
        Check(Run("mount", "-o", "remount,bind,ro", folder, folder), "remount read-only");
        return new Unmount(folder);
    }

    private sealed class Unmount(string folder) : IDisposable
    {
        public void Dispose() => Check(Run("umount", folder), "umount the read-only bind");
    }

    private static void Check((bool Ok, string Error) result, string what)
    {
        if (!result.Ok) throw new InvalidOperationException($"{what}: {result.Error}");
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "a tmpfs needs Linux";
        var folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "citysight-tests", $"tmpfs-probe-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var (ok, error) = Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", folder);
            if (!ok) return $"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {error}";
            Run("umount", folder);
            return null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return $"cannot run mount: {ex.Message}";
        }
        finally
        {
            try { Directory.Delete(folder); } catch (IOException) { }
        }
    }

    private static (bool Ok, string Error) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var error = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode == 0, error.Trim());
    }
}
