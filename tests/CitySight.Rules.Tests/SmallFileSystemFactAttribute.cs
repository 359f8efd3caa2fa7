namespace CitySight.Rules.Tests;

/// <summary>A test on a real small file system: skipped, saying why, where this machine does not let tests mount a tmpfs.</summary>
public sealed class SmallFileSystemFactAttribute : FactAttribute
{
    public SmallFileSystemFactAttribute()
    {
        if (SmallFileSystem.Unavailable is { } reason) Skip = reason;
    }
}
