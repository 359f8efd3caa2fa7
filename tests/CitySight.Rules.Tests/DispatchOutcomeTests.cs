using System.Threading.Channels;
using CitySight.Cases.Sqlite;
using CitySight.Domain;
using CitySight.Tests;
using CitySight.Tracking;
using Microsoft.Extensions.Logging.Abstractions;

namespace CitySight.Rules.Tests;

/// <summary>
/// Dispatch's word reaches the rules: the tracking and case-raising stages (real tracker, rules, site dedup and SQLite
/// store as the sink) hear a rejection committed to the store and keep the place quiet for the reject cooldown, where a
/// case that merely went away lets a car parking there later become a new case.
/// </summary>
public sealed class DispatchOutcomeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 10, 0, 0, TimeSpan.FromHours(8));
    private static readonly Box Car = new(20, 20, 44, 40);

    [Fact]
    public async Task A_car_that_leaves_and_parks_again_later_is_a_second_case()
    {
        var cases = await PlayAsync(reject: false);
        Assert.Equal(2, cases.Count);
        Assert.Equal(CaseState.Closed, cases[0].State);   // gone: closed by CitySight
        Assert.StartsWith("gone:", cases[0].StateNote);
    }

    [Fact]
    public async Task After_dispatch_rejects_it_the_same_place_stays_quiet()
    {
        var cases = await PlayAsync(reject: true);
        var only = Assert.Single(cases);
        Assert.Equal(CaseState.Rejected, only.State);
        Assert.Equal("legal loading bay", only.StateNote);
    }

    /// <summary>A car for 30 s, nothing for 5 minutes, the car again for 30 s; optionally the first case rejected.</summary>
    private static async Task<IReadOnlyList<Case>> PlayAsync(bool reject)
    {
        var dir = TestAssets.TempDir("outcome");
        var camera = new Camera
        {
            Id = "cam-1", Name = "Gate", GroupId = "g", Url = "rtsp://192.0.2.1/cam-1",
            Latitude = 31.2, Longitude = 121.4, Detectors = ["illegal_parking"],
        };
        var rules = new RuleOptions
        {
            ConfirmSamples = 1,
            CaseTypes = new Dictionary<string, CaseTypeRuleOverrides> { ["illegal_parking"] = new() { MinDwell = TimeSpan.Zero, RequireStationary = false } },
        };
        var dedup = new SiteDedupOptions { Window = TimeSpan.FromMinutes(2), Cooldown = TimeSpan.FromMinutes(1), RejectCooldown = TimeSpan.FromHours(1) };
        using var store = new SqliteCaseStore(Path.Combine(dir, "data"));
        // Wired as the host wires them: detected → tracking → tracked → case raising → the store, whose outcomes come back.
        var detected = Channel.CreateBounded<DetectedFrame>(new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.Wait });
        var trackedFrames = Channel.CreateBounded<TrackedFrame>(new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.Wait });
        var tracking = new TrackingWorker(
            new TrackingStage([camera], new TrackerOptions { StationaryRadiusFor = t => (float)rules.RuleFor(t).StationaryRadius }),
            detected.Reader, trackedFrames.Writer);
        var raiser = new CaseRaiser(store, rules, dedup, [new CameraGroup { Id = "g", Name = "G", Cameras = [camera] }],
            CaseType.Defaults, NullLogger.Instance);
        store.StateChanged += e => raiser.OnOutcome(e.Case);
        var worker = new CaseRaisingWorker(raiser, trackedFrames.Reader);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await tracking.StartAsync(timeout.Token);
        await worker.StartAsync(timeout.Token);

        var seq = 0L;
        async Task Frames(int fromS, int toS, int stepS, bool car)
        {
            for (var s = fromS; s < toS; s += stepS)
            {
                var frame = Frame.Rent("cam-1", seq++, T0.AddSeconds(s), 64, 48);
                Detection[] found = car ? [new Detection(2, "car", 0.8f, Car, "illegal_parking")] : [];
                await detected.Writer.WriteAsync(new DetectedFrame(frame, found, TimeSpan.Zero), timeout.Token);
            }
        }

        await Frames(0, 30, 2, car: true);
        // The case is committed before anything else is fed, so the rejection follows it on the frame clock.
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while ((await store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true, timeout.Token)).Count == 0)
            await tick.WaitForNextTickAsync(timeout.Token);
        if (reject)
        {
            var first = (await store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true, timeout.Token))[0];
            await store.TransitionAsync(first.Id, CaseState.Rejected, DateTimeOffset.UtcNow, "legal loading bay", timeout.Token);
        }
        await Frames(30, 330, 10, car: false);     // 5 minutes empty: past the window (2 min) and the cooldown (1 min)
        await Frames(330, 360, 2, car: true);      // the car is back: a new case unless the place was rejected

        detected.Writer.Complete();
        await worker.ExecuteTask!.WaitAsync(timeout.Token);
        await tracking.ExecuteTask!.WaitAsync(timeout.Token);
        await worker.StopAsync(CancellationToken.None);
        await tracking.StopAsync(CancellationToken.None);
        return await store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true);
    }
}
