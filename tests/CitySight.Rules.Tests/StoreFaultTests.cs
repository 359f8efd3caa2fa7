using CitySight.Cases.Sqlite;
using CitySight.Domain;
using CitySight.Tests;
using CitySight.Tracking;
using Microsoft.Extensions.Logging.Abstractions;

namespace CitySight.Rules.Tests;

/// <summary>
/// The store cannot be written for a while (disk full, read-only, I/O error) while a camera raises a case: the case
/// waits in memory and reaches the real store once it can be written, raised when it was first seen, with its picture.
/// </summary>
public sealed class StoreFaultTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 10, 0, 0, TimeSpan.FromHours(8));
    private static readonly Box Car = new(20, 20, 44, 40);

    private static readonly Camera Camera = new()
    {
        Id = "cam-1", Name = "Gate", GroupId = "g", Url = "rtsp://192.0.2.1/cam-1",
        Latitude = 31.2, Longitude = 121.4, Detectors = ["illegal_parking"],
    };

    private static readonly RuleOptions Rules = new()
    {
        ConfirmSamples = 1,
        CaseTypes = new Dictionary<string, CaseTypeRuleOverrides> { ["illegal_parking"] = new() { MinDwell = TimeSpan.Zero, RequireStationary = false } },
    };

    [Fact]
    public async Task A_case_raised_while_the_store_fails_is_stored_once_it_recovers_with_its_first_sighting_and_picture()
    {
        using var store = new SqliteCaseStore(Path.Combine(TestAssets.TempDir("store-fault"), "data"));
        var sink = new FailingSink(store) { Failing = true };
        var raiser = new CaseRaiser(sink, Rules, new SiteDedupOptions(), [new CameraGroup { Id = "g", Name = "G", Cameras = [Camera] }],
            CaseType.Defaults, NullLogger.Instance);
        var tracking = new TrackingStage([Camera], new TrackerOptions());
        var failedFrames = 0;
        async Task Frames(int fromS, int toS)
        {
            for (var s = fromS; s < toS; s += 2)
            {
                var frame = Frame.Rent("cam-1", s, T0.AddSeconds(s), 64, 48);
                using var tracked = tracking.Track(new DetectedFrame(frame, [new Detection(2, "car", 0.8f, Car, "illegal_parking")], TimeSpan.Zero))!;
                // As RunAsync does: a frame that throws is logged and skipped.
                try { await raiser.RaiseAsync(tracked, CancellationToken.None); }
                catch (Exception) { failedFrames++; }
            }
        }

        await Frames(0, 20);
        Assert.Empty(await store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true));
        sink.Failing = false;
        await Frames(20, 60);

        var stored = Assert.Single(await store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true));
        Assert.Equal(T0, stored.FirstSeen);                 // the case raised while the store failed, not a later one
        Assert.Equal(T0.AddSeconds(58), stored.LastSeen);   // later sightings reached it
        Assert.NotEmpty((await store.GetEvidenceAsync(stored.Id))!);
        Assert.Equal(0, failedFrames);
    }

    /// <summary>The real store behind a switch: while <see cref="Failing"/>, every write throws as a full disk does.</summary>
    private sealed class FailingSink(ICaseSink inner) : ICaseSink
    {
        public bool Failing { get; set; }

        private void ThrowIfFailing()
        {
            if (Failing) throw new IOException("No space left on device");
        }

        public Task<Case> OpenAsync(Case c, CancellationToken ct = default)
        {
            ThrowIfFailing();
            return inner.OpenAsync(c, ct);
        }

        public Task UpdateSightingAsync(string caseId, DateTimeOffset lastSeen, float confidence, byte[]? betterEvidence,
            byte[]? betterCrop, CancellationToken ct = default)
        {
            ThrowIfFailing();
            return inner.UpdateSightingAsync(caseId, lastSeen, confidence, betterEvidence, betterCrop, ct);
        }

        public Task<bool> CloseGoneAsync(string caseId, DateTimeOffset at, string note, CancellationToken ct = default)
        {
            ThrowIfFailing();
            return inner.CloseGoneAsync(caseId, at, note, ct);
        }

        public Task<IReadOnlyList<Case>> CasesSinceAsync(DateTimeOffset lastSeenAfter, bool includeFinal, CancellationToken ct = default) =>
            inner.CasesSinceAsync(lastSeenAfter, includeFinal, ct);
    }
}
