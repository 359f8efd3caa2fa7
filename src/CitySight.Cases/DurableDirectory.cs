using System.Runtime.InteropServices;

namespace CitySight.Cases;

/// <summary>
/// fsync on a directory, so a file created or renamed in it is still there after a power cut.
/// .NET cannot open a directory as a stream, hence libc. Best effort: elsewhere than Linux it does nothing.
/// </summary>
internal static partial class DurableDirectory
{
    public static void Sync(string directory)
    {
        if (!OperatingSystem.IsLinux()) return;
        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0) return;
        try
        {
            Fsync(fd);
        }
        finally
        {
            Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
