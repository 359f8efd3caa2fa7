using System.Collections.Concurrent;
using CitySight.Domain;
using CitySight.Ingest.Patrol;
using CitySight.Tests;
using Microsoft.Extensions.Logging.Abstractions;

namespace CitySight.Ingest.Tests;

/// <summary>
/// The patrol's rotation changed while it runs (what the admin API and a reload do), with real snapshot visits by
/// ffmpeg of a real video file, and the frame hand-off it shares with the streams.
/// </summary>
public sealed class PatrolRotationTests
{
    private static readonly IngestOptions Settings = new() { PatrolConcurrency = 2, SnapshotTimeout = TimeSpan.FromSeconds(10) };

    private static Camera Cam(string id, bool enabled = true) => new()
    {
        Id = id, Name = id, GroupId = "p", Url = TestAssets.Media("parking-lot-cctv-640x480.mp4"),
        SampleInterval = TimeSpan.FromMilliseconds(300), Mode = IngestMode.Patrol, Enabled = enabled,
    };

    private static PatrolWorker Patrol(FrameProducers frames, params Camera[] cameras) =>
        new(cameras, new SnapshotVisitor(Settings), frames, Settings, TimeProvider.System, NullLogger<PatrolWorker>.Instance);

    /// <summary>The hand-off as the service has it: two producers, the streams (played by the test) and the patrol.</summary>
    private static (DetectorHandOff Detector, FrameProducers Frames) HandOff()
    {
        var detector = new DetectorHandOff();
        return (detector, new FrameProducers(detector, producers: 2));
    }

    private static async Task<DateTimeOffset> VisitedAfterAsync(PatrolWorker patrol, string id, DateTimeOffset after, CancellationToken ct)
    {
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (true)
        {
            if (patrol.Status().SingleOrDefault(s => s.CameraId == id)?.LastVisit is { } v && v > after) return v;
            await tick.WaitForNextTickAsync(ct);
        }
    }

    [Fact]
    public async Task A_camera_switched_off_leaves_the_rotation_and_switched_on_is_visited_again()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (detector, producers) = HandOff();
        var (a, b) = (Cam("a"), Cam("b"));
        var patrol = Patrol(producers, a, b);
        var health = new ConcurrentQueue<(string Id, PatrolHealth Health)>();
        patrol.HealthChanged += (id, h, _, _) => health.Enqueue((id, h));
        // The detector's side: takes every frame (a file's mailbox waits for it), returning the buffers.
        var draining = Task.Run(async () => { await foreach (var f in detector.Frames.ReadAllAsync(timeout.Token)) f.Dispose(); });
        await patrol.StartAsync(timeout.Token);
        try
        {
            await VisitedAfterAsync(patrol, "a", DateTimeOffset.MinValue, timeout.Token);

            Assert.True(await patrol.SetEnabledAsync(a, enabled: false));
            Assert.False(await patrol.SetEnabledAsync(a, enabled: false)); // already off: nothing changes
            Assert.False(patrol.Override("a"));
            Assert.DoesNotContain(patrol.Status(), s => s.CameraId == "a");
            // b is visited twice more; a never shows up again meanwhile.
            var bAt = await VisitedAfterAsync(patrol, "b", DateTimeOffset.UtcNow, timeout.Token);
            await VisitedAfterAsync(patrol, "b", bAt, timeout.Token);
            Assert.DoesNotContain(patrol.Status(), s => s.CameraId == "a");
            Assert.Equal(PatrolHealth.Disabled, health.Last(h => h.Id == "a").Health);

            var onAt = DateTimeOffset.UtcNow;
            var reportsBefore = health.Count;
            Assert.True(await patrol.SetEnabledAsync(a, enabled: true));
            Assert.Null(patrol.Override("a")); // as configured again
            await VisitedAfterAsync(patrol, "a", onAt, timeout.Token);
            // Reported healthy again (the report follows the visit's bookkeeping on the visit's task).
            using (var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(20)))
                while (!health.Skip(reportsBefore).Contains(("a", PatrolHealth.Patrolled)))
                    await tick.WaitForNextTickAsync(timeout.Token);

            // A camera its file disables is switched on by the admin API: an override, and visited.
            var c = Cam("c", enabled: false);
            Assert.True(await patrol.SetEnabledAsync(c, enabled: true));
            Assert.True(patrol.Override("c"));
            await VisitedAfterAsync(patrol, "c", DateTimeOffset.MinValue, timeout.Token);

            // A reload takes b out (removed) and c back to its file's state: their overrides go with them.
            await patrol.RemoveAsync(["b", "c"]);
            Assert.Equal(["a"], patrol.Status().Select(s => s.CameraId));
            Assert.Null(patrol.Override("c"));
            Assert.Equal(PatrolHealth.Stopped, health.Last(h => h.Id == "b").Health);
        }
        finally
        {
            await patrol.StopAsync(CancellationToken.None);
            producers.ProducerStopped(); // the streams' share: the hand-off completes and the drain ends
            await draining;
        }
    }

    [Fact]
    public async Task An_empty_patrol_takes_the_hand_off_back_when_cameras_join_while_the_streams_still_run()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (detector, producers) = HandOff();
        var patrol = Patrol(producers);
        await patrol.StartAsync(timeout.Token);
        var frames = new List<Frame>();
        var reading = Task.Run(async () =>
        {
            await foreach (var f in detector.Frames.ReadAllAsync(timeout.Token))
            {
                lock (frames) frames.Add(f);
            }
        });
        try
        {
            // Nothing to visit: the patrol has let go of the hand-off. A camera joins while the streams (the other
            // producer, never stopped here) still run: it takes the hand-off back and its frames come through.
            patrol.Add([Cam("late")]);
            await VisitedAfterAsync(patrol, "late", DateTimeOffset.MinValue, timeout.Token);
            using (var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50)))
                while (true)
                {
                    lock (frames) if (frames.Count > 0) break;
                    await tick.WaitForNextTickAsync(timeout.Token);
                }
            lock (frames) Assert.Equal("late", frames[0].CameraId);

            // The streams end: the hand-off stays open while the patrol still visits ...
            producers.ProducerStopped();
            Assert.False(producers.HandOffComplete);
            Assert.False(reading.IsCompleted);
        }
        finally
        {
            await patrol.StopAsync(CancellationToken.None);
        }
        // ... and completes when the patrol stops.
        Assert.True(producers.HandOffComplete);
        await reading.WaitAsync(timeout.Token);
        lock (frames) foreach (var f in frames) f.Dispose();
    }

    [Fact]
    public async Task Cameras_cannot_join_once_every_producer_has_stopped_and_detection_was_told_so()
    {
        var (detector, producers) = HandOff();
        var patrol = Patrol(producers);
        await patrol.StartAsync(CancellationToken.None);
        try
        {
            producers.ProducerStopped(); // the streams ended (a file run): with the empty patrol, the hand-off completes
            Assert.True(producers.HandOffComplete);
            var e = Assert.Throws<InvalidOperationException>(() => patrol.Add([Cam("late")]));
            Assert.Contains("patrol has stopped", e.Message);
            await Assert.ThrowsAsync<InvalidOperationException>(() => patrol.SetEnabledAsync(Cam("late", enabled: false), enabled: true));
            Assert.Empty(patrol.Status());
        }
        finally
        {
            await patrol.StopAsync(CancellationToken.None);
        }
    }
}
