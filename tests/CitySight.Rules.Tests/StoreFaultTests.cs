using System.Threading.Channels;
using CitySight.Cases.Sqlite;
using CitySight.Domain;
using CitySight.Tests;
using CitySight.Tracking;
using Microsoft.Extensions.Logging.Abstractions;
using static CitySight.Rules.Tests.StoreFaultScene;

namespace CitySight.Rules.Tests;

/// <summary>
/// The store cannot be written for a while (disk full, read-only, I/O error) while a camera raises a case: the case
/// waits in memory and reaches the real store once it can be written, raised when it was first seen, with its picture.
/// </summary>
[Collection(StoreFaultCollection.Name)]
public sealed class StoreFaultTests
{
    private static readonly Camera Camera = GateCamera;
    private static readonly RuleOptions Rules = RaiseAtOnce;
    private static readonly Box Car = new(20, 20, 44, 40);

    [Fact]
    public async Task A_case_raised_while_the_store_fails_is_stored_once_it_recovers_with_its_first_sighting_and_picture()
    {
        using var store = new SqliteCaseStore(Path.Combine(TestAssets.TempDir("store-fault"), "data"));
        var sink = new FailingSink(store) { Failing = true };
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var raiser = new CaseRaiser(sink, Rules, new SiteDedupOptions(), [new CameraGroup { Id = "g", Name = "G", Cameras = [Camera] }],
            CaseType.Defaults, NullLogger.Instance, clock);
        var problems = new List<string?>();
        raiser.StoreProblemChanged += problems.Add;
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

        var failuresBefore = StoreFailures.WithLabels("open").Value;
        await Frames(0, 20);
        Assert.Empty(await store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true));
        Assert.Contains("No space left on device", raiser.StoreProblem);
        Assert.Equal(1, raiser.WaitingCases);
        Assert.Equal(1, raiser.Site.WaitingCount);   // dedup knows it as waiting, not as stored
        // The wall clock stood still: one failed write, the backoff held the other nine frames back.
        Assert.Equal(1, StoreFailures.WithLabels("open").Value - failuresBefore);

        sink.Failing = false;
        await Frames(20, 30);
        Assert.Empty(await store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true));   // not due yet
        clock.Advance(StoreBacklog.FirstRetryDelay);
        await Frames(30, 60);

        var stored = Assert.Single(await store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true));
        Assert.Equal(T0, stored.FirstSeen);
        Assert.True(stored.RaisedAt < T0.AddSeconds(20), $"raised at {stored.RaisedAt}");   // while the store failed, not later
        Assert.Equal(T0.AddSeconds(58), stored.LastSeen);   // later sightings reached it
        Assert.NotEmpty((await store.GetEvidenceAsync(stored.Id))!);
        Assert.Equal(0, failedFrames);
        Assert.Null(raiser.StoreProblem);
        Assert.Equal(0, raiser.WaitingCases);
        Assert.Equal(0, raiser.Site.WaitingCount);
        Assert.Equal(2, problems.Count);                    // one fault (the backoff kept it one), then healthy again
        Assert.Null(problems[^1]);
    }

    [Fact]
    public async Task With_no_frame_coming_the_running_stage_retries_on_its_own_once_the_store_heals()
    {
        using var store = new SqliteCaseStore(Path.Combine(TestAssets.TempDir("store-fault-idle"), "data"));
        var sink = new FailingSink(store) { Failing = true };
        var raiser = new CaseRaiser(sink, Rules, new SiteDedupOptions(), [new CameraGroup { Id = "g", Name = "G", Cameras = [Camera] }],
            CaseType.Defaults, NullLogger.Instance);
        var tracking = new TrackingStage([Camera], new TrackerOptions());
        var input = Channel.CreateUnbounded<TrackedFrame>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var running = raiser.RunAsync(input.Reader, stop.Token);
        for (var s = 0; s < 10; s += 2)
        {
            var frame = Frame.Rent("cam-1", s, T0.AddSeconds(s), 64, 48);
            await input.Writer.WriteAsync(tracking.Track(new DetectedFrame(frame, [new Detection(2, "car", 0.8f, Car, "illegal_parking")], TimeSpan.Zero))!);
        }
        await Wait.UntilAsync(() => raiser.StoreProblem is not null, "the store fault to be reported");
        sink.Failing = false;
        // No frame after this: the stage's own retry (1 s after the fault) stores the case.
        await Wait.UntilAsync(() => raiser.StoreProblem is null, "the waiting case to be stored without a frame");
        var stored = Assert.Single(await store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true));
        Assert.Equal(T0.AddSeconds(8), stored.LastSeen);
        input.Writer.Complete();
        await running;
    }

    [Fact]
    public async Task Past_the_waiting_limit_a_new_case_is_not_kept_and_is_raised_again_at_a_later_sighting()
    {
        using var store = new SqliteCaseStore(Path.Combine(TestAssets.TempDir("store-fault-limit"), "data"));
        var sink = new FailingSink(store) { Failing = true };
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var raiser = new CaseRaiser(sink, Rules, new SiteDedupOptions(), [new CameraGroup { Id = "g", Name = "G", Cameras = [Camera] }],
            CaseType.Defaults, NullLogger.Instance, clock, maxWaitingCases: 1);
        var tracking = new TrackingStage([Camera], new TrackerOptions());
        Box[] cars = [new(2, 30, 14, 40), new(40, 30, 52, 40)];   // far apart on the image: two cases
        async Task Frames(int fromS, int toS)
        {
            for (var s = fromS; s < toS; s += 2)
            {
                var frame = Frame.Rent("cam-1", s, T0.AddSeconds(s), 64, 48);
                using var tracked = tracking.Track(new DetectedFrame(frame,
                    [.. cars.Select(b => new Detection(2, "car", 0.8f, b, "illegal_parking"))], TimeSpan.Zero))!;
                await raiser.RaiseAsync(tracked, CancellationToken.None);
            }
        }

        await Frames(0, 10);
        Assert.Equal(1, raiser.WaitingCases);
        Assert.Equal(1, raiser.Site.WaitingCount);   // the other is not half-known either
        sink.Failing = false;
        clock.Advance(StoreBacklog.MaxRetryDelay);
        await Frames(10, 20);

        var stored = await store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true);
        Assert.Equal(2, stored.Count);
        Assert.True(stored[0].RaisedAt < T0.AddSeconds(10), $"raised {stored[0].RaisedAt}");   // the one that waited
        Assert.Equal(T0.AddSeconds(10), stored[1].RaisedAt);   // the other, raised at its first sighting after
        Assert.Null(raiser.StoreProblem);
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
