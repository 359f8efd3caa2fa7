using CitySight.Cases;
using CitySight.Cases.Sqlite;
using CitySight.Domain;
using CitySight.Tests;
using CitySight.Tracking;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using static CitySight.Rules.Tests.StoreFaultScene;
using Xunit.Abstractions;

namespace CitySight.Rules.Tests;

/// <summary>
/// The real case-raising stage and SQLite store on a real 16 MB tmpfs: cars park while the file system is full (or below
/// the store's picture reserve, or only the database's disk is full, or the evidence folder is read-only), then it is freed. Every case reaches the feed once, raised when first seen, with its
/// picture; meanwhile the stage says what is wrong.
/// </summary>
[Collection(StoreFaultCollection.Name)]
public sealed class DiskFullTests(ITestOutputHelper output)
{
    private static readonly Camera Camera = GateCamera;
    private static readonly RuleOptions Rules = RaiseAtOnce;
    private const int W = 640, H = 480, Cars = 8, CarsBeforeFull = 2;

    /// <summary>Car i parks at its own spot along the kerb (80 px apart: more than the same-camera image distance).</summary>
    private static Box CarBox(int i) => new(10 + i * 78, 400, 70 + i * 78, 440);

    /// <summary>Car i arrives at this second: two before the disk fills (10 s), six while it is full (every 4 s from 12 s).</summary>
    private static int Arrival(int i) => i < CarsBeforeFull ? 0 : 12 + (i - CarsBeforeFull) * 4;

    [SmallFileSystemFact]
    public Task Cases_raised_while_the_disk_is_full_all_arrive_with_their_pictures_once_it_is_freed() => PlayAsync(reserveBytes: 0, leaveBytes: 0);

    [SmallFileSystemFact]
    public Task Cases_raised_while_only_the_database_disk_is_full_all_arrive_once_it_is_freed() =>
        PlayAsync(reserveBytes: 0, leaveBytes: 0, evidenceApart: true);

    [SmallFileSystemFact]
    public Task Cases_raised_while_the_evidence_folder_is_read_only_all_arrive_once_it_is_writable() =>
        PlayAsync(reserveBytes: 0, leaveBytes: 0, evidenceReadOnly: true);

    [SmallFileSystemFact]
    public Task Below_the_picture_reserve_new_cases_wait_while_stored_ones_still_record_sightings() =>
        PlayAsync(reserveBytes: 4 << 20, leaveBytes: 2 << 20);

    /// <param name="evidenceApart">The evidence folder on a file system of its own, which stays roomy: the pictures are
    /// written and the database's commit is what fails (SQLITE_FULL).</param>
    /// <param name="evidenceReadOnly">Instead of filling the disk, the evidence folder is made read-only (EROFS), then writable.</param>
    private async Task PlayAsync(long reserveBytes, long leaveBytes, bool evidenceApart = false, bool evidenceReadOnly = false)
    {
        using var fs = SmallFileSystem.Mount(TestAssets.TempDir("tmpfs"), megabytes: 16);
        using var evidenceFs = evidenceApart ? SmallFileSystem.Mount(Path.Combine(fs.Path, "data", EvidenceFiles.FolderName), megabytes: 16) : null;
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var store = new SqliteCaseStore(Path.Combine(fs.Path, "data"), reserveBytes);
        try
        {
            var raiser = new CaseRaiser(store, Rules, new SiteDedupOptions(), [new CameraGroup { Id = "g", Name = "G", Cameras = [Camera] }],
                CaseType.Defaults, NullLogger.Instance, clock);
            var tracking = new TrackingStage([Camera], new TrackerOptions());
            async Task Frames(int fromS, int toS)
            {
                for (var s = fromS; s < toS; s += 2)
                {
                    var frame = Frame.Rent("cam-1", s, T0.AddSeconds(s), W, H);
                    frame.Bgr.Fill(128);
                    var found = Enumerable.Range(0, Cars).Where(i => Arrival(i) <= s)
                        .Select(i => new Detection(2, "car", 0.8f, CarBox(i), "illegal_parking")).ToArray();
                    using var tracked = tracking.Track(new DetectedFrame(frame, found, TimeSpan.Zero))!;
                    await raiser.RaiseAsync(tracked, CancellationToken.None);   // a store fault must not fail the frame
                    clock.Advance(TimeSpan.FromSeconds(2));                       // the wall clock keeps pace
                }
            }

            await Frames(0, 10);
            Assert.Equal(CarsBeforeFull, (await store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true)).Count);

            var readOnly = evidenceReadOnly ? fs.ReadOnly(store.EvidenceFolder) : null;
            var filler = evidenceReadOnly ? null : fs.Fill(leaveBytes);
            var failuresBefore = StoreFailures.WithLabels("open").Value;
            await Frames(10, 40);
            var whileFull = await store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true);
            Assert.Equal(CarsBeforeFull, whileFull.Count);
            Assert.Equal(Cars - CarsBeforeFull, raiser.WaitingCases);
            Assert.Equal(Cars - CarsBeforeFull, raiser.Site.WaitingCount);
            Assert.NotNull(raiser.StoreProblem);
            Assert.True(StoreFailures.WithLabels("open").Value > failuresBefore);
            output.WriteLine($"while full ({fs.FreeBytes} bytes free): {whileFull.Count} cases stored, {raiser.WaitingCases} waiting, " +
                $"{StoreFailures.WithLabels("open").Value - failuresBefore} failed opens; {raiser.StoreProblem}");
            if (reserveBytes > 0)
            {
                // The reserve kept the database writable: sightings of the cars already stored were recorded meanwhile
                // (at the retries the backoff allows, the last one at 28 s).
                Assert.Contains("kept for the case database", raiser.StoreProblem);
                Assert.All(whileFull, c => Assert.True(c.LastSeen > T0.AddSeconds(20), $"last seen {c.LastSeen}"));
                Assert.True(fs.FreeBytes > 0, "the reserve let the disk fill up");
            }

            readOnly?.Dispose();
            if (filler is not null) File.Delete(filler);
            await Frames(40, 80);   // past the longest backoff (30 s)

            Assert.Null(raiser.StoreProblem);
            Assert.Equal(0, raiser.WaitingCases);
            var opened = new List<Case>();
            await foreach (var e in store.EventsAsync(0, includeEvidence: true))
            {
                if (e.Kind == CaseFeedKind.Opened) opened.Add(e.Case);
                if (e.Sequence == store.LastSequence) break;
            }
            output.WriteLine($"after freeing: {opened.Count} opened events on the feed, {opened.Count(c => c.Evidence.Length > 0)} with pictures");
            Assert.Equal(Cars, opened.Count);
            Assert.Equal(Cars, opened.Select(c => c.Id).Distinct().Count());
            Assert.All(opened, c => Assert.NotEmpty(c.Evidence));
            // Each the case raised while the disk was full (not raised again later, after it was dropped), seen until the end.
            Assert.Equal(Enumerable.Range(0, Cars).Select(i => T0.AddSeconds(Arrival(i))), opened.Select(c => c.FirstSeen).Order());
            Assert.All(opened, c => Assert.True(c.RaisedAt < T0.AddSeconds(40), $"{c.Id} raised at {c.RaisedAt}"));
            Assert.All(opened, c => Assert.Equal(CaseState.Reported, c.State));
            foreach (var c in opened)
            {
                Assert.Equal(T0.AddSeconds(78), (await store.GetAsync(c.Id))!.LastSeen);
                Assert.NotEmpty((await store.GetEvidenceAsync(c.Id, EvidenceView.BestCrop))!);
            }
        }
        finally
        {
            store.Dispose();
            SqliteConnection.ClearAllPools();
        }
    }
}
