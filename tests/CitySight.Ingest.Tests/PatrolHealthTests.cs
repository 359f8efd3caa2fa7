using System.Collections.Concurrent;
using CitySight.Domain;
using CitySight.Ingest.Patrol;
using CitySight.Tests;
using Microsoft.Extensions.Logging.Abstractions;

namespace CitySight.Ingest.Tests;

/// <summary>
/// Patrolled cameras report their health as it changes, not per visit (what MQTT publishes as their retained status):
/// real snapshot visits with ffmpeg, one to a real video file, one to an RTSP address where nothing listens.
/// </summary>
public sealed class PatrolHealthTests
{
    [Fact]
    public async Task A_good_camera_is_reported_once_and_a_dead_one_once_with_its_reason_however_often_they_are_visited()
    {
        var good = new Camera
        {
            Id = "good", Name = "Good", GroupId = "p", Url = TestAssets.Media("parking-lot-cctv-640x480.mp4"),
            SampleInterval = TimeSpan.FromMilliseconds(300), Mode = IngestMode.Patrol,
        };
        // Nothing listens there: connection refused.
        var dead = good with { Id = "dead", Name = "Dead", Url = $"rtsp://127.0.0.1:{TestPorts.Free()}/none" };

        var settings = new IngestOptions { PatrolConcurrency = 2, SnapshotTimeout = TimeSpan.FromSeconds(5) };
        var frames = new FrameProducers(new DetectorHandOff(), producers: 2);
        var patrol = new PatrolWorker([good, dead], new SnapshotVisitor(settings), frames, settings, TimeProvider.System,
            NullLogger<PatrolWorker>.Instance);
        var reports = new ConcurrentQueue<(string Id, bool Ok, string? Reason)>();
        patrol.HealthChanged += (id, health, reason, _) => reports.Enqueue((id, health == PatrolHealth.Patrolled, reason));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await patrol.StartAsync(timeout.Token);
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        // Several visits each, so repeats would show.
        while (patrol.Status().Any(s => s.CameraId == "good" && s.LastVisit is null) || Failures(patrol, "dead") < 3)
            await tick.WaitForNextTickAsync(timeout.Token);
        while (patrol.Status().Single(s => s.CameraId == "good").LastGap is null)
            await tick.WaitForNextTickAsync(timeout.Token);
        await patrol.StopAsync(CancellationToken.None);

        var byCamera = reports.GroupBy(r => r.Id).ToDictionary(g => g.Key, g => g.ToList());
        var goodReport = Assert.Single(byCamera["good"]);
        Assert.True(goodReport.Ok);
        var deadReport = Assert.Single(byCamera["dead"]);
        Assert.False(deadReport.Ok);
        Assert.False(string.IsNullOrEmpty(deadReport.Reason));
    }

    private static int Failures(PatrolWorker patrol, string id) => patrol.Status().Single(s => s.CameraId == id).ConsecutiveFailures;
}
