using CitySight.Cases.Sqlite;
using CitySight.Tests;
using Microsoft.Data.Sqlite;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Cases.Tests;

/// <summary>
/// The store on bad storage: a damaged database is refused at start with a message saying what to do, and the free-space
/// reserve keeps new cases' pictures (and so the cases) off a nearly full disk while the database still takes updates.
/// </summary>
public sealed class StorageFaultTests : IDisposable
{
    /// <summary>More free space than any disk has: every picture is below the reserve.</summary>
    private const long Unreachable = long.MaxValue / 4;

    private readonly string _data = TestAssets.TempDir("storage-fault");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public void A_garbage_database_file_is_refused_naming_the_file_and_what_to_do()
    {
        var db = Path.Combine(_data, SqliteCaseStore.DatabaseFileName);
        File.WriteAllBytes(db, Jpeg(1, 64 * 1024));
        var ex = Assert.Throws<InvalidDataException>(() => new SqliteCaseStore(_data));
        Assert.Contains(db, ex.Message);
        Assert.Contains("move", ex.Message);
        Assert.Contains("not a database", ex.Message);
    }

    [Fact]
    public async Task A_database_with_damaged_pages_fails_quick_check_at_start()
    {
        using (var store = new SqliteCaseStore(_data))
            for (var n = 0; n < 200; n++) await store.OpenAsync(Case(n) with { Evidence = [] });
        SqliteConnection.ClearAllPools();   // the last connection checkpoints the WAL into the file
        var db = Path.Combine(_data, SqliteCaseStore.DatabaseFileName);
        Assert.False(File.Exists(db + "-wal") && new FileInfo(db + "-wal").Length > 0, "WAL not checkpointed");
        // Pages past the schema (the header and page 1 intact, so the file still opens as a database): overwritten.
        var bytes = File.ReadAllBytes(db);
        Assert.True(bytes.Length > 8 * 4096, $"only {bytes.Length} bytes");
        new Random(3).NextBytes(bytes.AsSpan(4 * 4096, bytes.Length - 5 * 4096));
        File.WriteAllBytes(db, bytes);

        var ex = Assert.Throws<InvalidDataException>(() => new SqliteCaseStore(_data));
        Assert.Contains(db, ex.Message);
        Assert.Contains("damaged", ex.Message);
        Assert.Contains(".recover", ex.Message);
    }

    [Fact]
    public async Task Below_the_free_space_reserve_a_new_case_is_refused_whole_as_a_storage_fault()
    {
        using var store = new SqliteCaseStore(_data, minFreeBytes: Unreachable);
        var c = Case(1) with { EvidenceCrop = Jpeg(2) };
        var ex = await Assert.ThrowsAsync<EvidenceSpaceException>(() => store.OpenAsync(c));
        Assert.IsAssignableFrom<IOException>(ex);   // what the case raiser waits out
        Assert.Contains(store.EvidenceFolder, ex.Message);
        Assert.Null(await store.GetAsync(c.Id));
        Assert.Empty(Directory.EnumerateFiles(store.EvidenceFolder));
        Assert.Equal(0, store.LastSequence);
    }

    [Fact]
    public async Task Below_the_reserve_a_better_picture_is_skipped_while_the_sighting_is_recorded()
    {
        var c = Case(1);
        using (var roomy = new SqliteCaseStore(_data, minFreeBytes: 0)) await roomy.OpenAsync(c);
        SqliteConnection.ClearAllPools();

        using var store = new SqliteCaseStore(_data, minFreeBytes: Unreachable);
        await store.UpdateSightingAsync(c.Id, c.LastSeen.AddMinutes(5), 0.99f, Jpeg(50), Jpeg(51));
        var after = (await store.GetAsync(c.Id))!;
        Assert.Equal(c.LastSeen.AddMinutes(5), after.LastSeen);
        Assert.Equal(c.Evidence, after.Evidence);                               // the picture it had
        Assert.Null(await store.GetEvidenceAsync(c.Id, EvidenceView.First));   // nothing copied either
    }

    [Fact]
    public void Free_space_is_read_from_the_evidence_folders_file_system()
    {
        var files = new EvidenceFiles(_data, minFreeBytes: 1);
        var free = files.FreeBytes();
        Assert.InRange(free, 1, new DriveInfo("/").TotalSize * 1024);
        Assert.True(files.HasRoomFor(0));
        Assert.False(files.HasRoomFor(free + (1L << 30)));   // would leave less than nothing
    }
}
