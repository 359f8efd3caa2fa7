namespace CitySight.Cases;

/// <summary>
/// The evidence folder (<c>&lt;data&gt;/evidence/</c>): one JPEG per case and view, written durably (fsync of the file,
/// then of the folder after the rename) so a picture is on disk before the commit that refers to it. Whatever keeps
/// the case rows, the pictures are files: any backend can use this.
/// </summary>
public sealed class EvidenceFiles
{
    public const string FolderName = "evidence";

    /// <param name="minFreeBytes">
    /// Space kept free on the folder's file system: pictures that would leave less are not written (see
    /// <see cref="EnsureRoomFor"/>), so the database beside them never runs out first. 0: no reserve.
    /// </param>
    public EvidenceFiles(string dataFolder, long minFreeBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minFreeBytes);
        DataFolder = Path.GetFullPath(dataFolder);
        Folder = Path.Combine(DataFolder, FolderName);
        MinFreeBytes = minFreeBytes;
        Directory.CreateDirectory(Folder);
    }

    public string DataFolder { get; }
    public string Folder { get; }
    public long MinFreeBytes { get; }

    /// <summary>Free space on the folder's file system for this process (statvfs through DriveInfo).</summary>
    public long FreeBytes() => new DriveInfo(Folder).AvailableFreeSpace;

    /// <summary>Would <paramref name="bytes"/> more still leave <see cref="MinFreeBytes"/> free?</summary>
    public bool HasRoomFor(long bytes) => MinFreeBytes == 0 || FreeBytes() - bytes >= MinFreeBytes;

    /// <exception cref="EvidenceSpaceException">Writing <paramref name="bytes"/> would leave less than <see cref="MinFreeBytes"/> free.</exception>
    public void EnsureRoomFor(long bytes)
    {
        if (MinFreeBytes == 0) return;
        var free = FreeBytes();
        if (free - bytes < MinFreeBytes)
            throw new EvidenceSpaceException(
                $"evidence folder {Folder}: {free / 1024.0 / 1024:F1} MB free, below the {MinFreeBytes / 1024.0 / 1024:F1} MB kept for the case database; " +
                "pictures are not written until space is freed (retention, or a larger disk)");
    }

    /// <summary>Ids become file names: refuses anything that could leave the evidence folder.</summary>
    /// <exception cref="ArgumentException">The id is empty, too long, or not a plain file name.</exception>
    public static void ValidateCaseId(string id)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        if (id.Length > 200 || id is "." or ".." || id.IndexOfAny(['/', '\\']) >= 0 ||
            id.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            throw new ArgumentException($"case id '{id}' cannot be used as a file name", nameof(id));
    }

    /// <summary>Where a view of a case lives, relative to the data folder (what a case row keeps).</summary>
    public static string RelativePath(string id, EvidenceView view = EvidenceView.Best) => Path.Combine(FolderName, view switch
    {
        EvidenceView.Best => id + ".jpg",
        EvidenceView.BestCrop => id + "-crop.jpg",
        EvidenceView.First => id + "-first.jpg",
        EvidenceView.FirstCrop => id + "-first-crop.jpg",
        EvidenceView.BeforeAfter => id + "-before-after.jpg",
        _ => throw new ArgumentOutOfRangeException(nameof(view)),
    });

    private string FullPath(string id, EvidenceView view) => Path.Combine(DataFolder, RelativePath(id, view));

    /// <summary>Writes one view durably, replacing it by rename: a reader gets either the old or the new JPEG, never a torn one.</summary>
    /// <returns>Its path relative to the data folder.</returns>
    public string Write(string id, byte[] jpeg, EvidenceView view = EvidenceView.Best)
    {
        var final = FullPath(id, view);
        var temp = final + ".tmp";
        try
        {
            using (var fs = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                fs.Write(jpeg);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, final, overwrite: true);
        }
        catch (IOException)
        {
            // Disk full: the torn temp file would hold on to what little space is left.
            TryDelete(temp);
            throw;
        }
        DurableDirectory.Sync(Folder); // make the rename itself survive a power cut
        return RelativePath(id, view);
    }

    /// <summary>Before the best view is first replaced, the original pictures become the first view (once).</summary>
    public void KeepFirstView(string id)
    {
        var first = FullPath(id, EvidenceView.First);
        if (File.Exists(first)) return;
        var best = FullPath(id, EvidenceView.Best);
        if (!File.Exists(best)) return;
        var bestCrop = FullPath(id, EvidenceView.BestCrop);
        // Copied, not moved: the best view stays in place until its replacement is renamed over it, so a reader in
        // between (a feed or push consumer, GetEvidence) never finds no picture. Crop first: if we stop between the
        // two, the first view is not there yet and the next update does it again.
        if (File.Exists(bestCrop)) CopyDurably(bestCrop, FullPath(id, EvidenceView.FirstCrop));
        CopyDurably(best, first);
        DurableDirectory.Sync(Folder);
    }

    private static void TryDelete(string file)
    {
        try { File.Delete(file); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static void CopyDurably(string from, string to)
    {
        var temp = to + ".tmp";
        File.Copy(from, temp, overwrite: true);
        using (var fs = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) fs.Flush(flushToDisk: true);
        File.Move(temp, to, overwrite: true);
    }

    /// <summary>The file at a path a case row keeps; empty when it is gone (removed by hand or by retention: the case itself still stands).</summary>
    public byte[] ReadOrEmpty(string relative)
    {
        try
        {
            return File.ReadAllBytes(Path.Combine(DataFolder, relative));
        }
        catch (FileNotFoundException)
        {
            return [];
        }
    }

    /// <summary>The file at a path a case row keeps (never one a caller made up), or null when it is gone.</summary>
    public async Task<byte[]?> ReadAsync(string relative, CancellationToken ct)
    {
        try
        {
            return await File.ReadAllBytesAsync(Path.Combine(DataFolder, relative), ct).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>One view of a case, or null when it does not exist. Validates the id: it becomes a file name.</summary>
    public Task<byte[]?> ReadAsync(string id, EvidenceView view, CancellationToken ct)
    {
        ValidateCaseId(id);
        return ReadAsync(RelativePath(id, view), ct);
    }

    /// <summary>Deletes these views of a case (not durable until <see cref="Sync"/>); the bytes freed.</summary>
    public long Delete(string id, params EvidenceView[] views)
    {
        long freed = 0;
        foreach (var view in views)
        {
            var file = new FileInfo(FullPath(id, view));
            if (!file.Exists) continue;
            freed += file.Length;
            file.Delete();
        }
        return freed;
    }

    /// <summary>What the folder's pictures take on disk.</summary>
    public long TotalBytes() => Directory.EnumerateFiles(Folder, "*.jpg").Sum(f => new FileInfo(f).Length);

    /// <summary>Makes deletions and renames in the folder survive a power cut.</summary>
    public void Sync() => DurableDirectory.Sync(Folder);
}
