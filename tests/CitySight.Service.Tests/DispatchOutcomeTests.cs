using CitySight.Cases;
using CitySight.Configuration;
using CitySight.Domain;
using CitySight.Service;
using CitySight.Tests;
using Microsoft.Extensions.Logging.Abstractions;

namespace CitySight.Service.Tests;

/// <summary>
/// Dispatch's word reaches the rules: the case worker (real rules, site dedup and SQLite store) hears a rejection
/// committed to the store and keeps the place quiet for dedup.reject_cooldown, where a case that merely went away
/// lets a car parking there later become a new case.
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
        var config = new CitySightConfig
        {
            SourceFile = "test",
            Service = new ServiceSettings { DataDir = Path.Combine(dir, "data") },
            Rules = new RuleSettings
            {
                ConfirmSamples = 1,
                CaseTypes = new Dictionary<string, CaseTypeRuleOverrides>
                {
                    ["illegal_parking"] = new() { MinDwell = TimeSpan.Zero, RequireStationary = false },
                },
            },
            Dedup = new DedupSettings { Window = TimeSpan.FromMinutes(2), Cooldown = TimeSpan.FromMinutes(1), RejectCooldown = TimeSpan.FromHours(1) },
            Groups = [new CameraGroup { Id = "g", Name = "G", Cameras = [camera] }],
        };
        using var store = new CaseStore(config.Service.DataDir);
        var channels = new PipelineChannels();
        var worker = new CaseWorker(config, channels, store, NullLogger<CaseWorker>.Instance);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await worker.StartAsync(timeout.Token);

        var seq = 0L;
        async Task Frames(int fromS, int toS, int stepS, bool car)
        {
            for (var s = fromS; s < toS; s += stepS)
            {
                var frame = Frame.Rent("cam-1", seq++, T0.AddSeconds(s), 64, 48);
                Detection[] found = car ? [new Detection(2, "car", 0.8f, Car, "illegal_parking")] : [];
                await channels.Detected.Writer.WriteAsync(new DetectedFrame(frame, found, TimeSpan.Zero), timeout.Token);
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

        channels.Detected.Writer.Complete();
        await worker.ExecuteTask!.WaitAsync(timeout.Token);
        await worker.StopAsync(CancellationToken.None);
        return await store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true);
    }
}
