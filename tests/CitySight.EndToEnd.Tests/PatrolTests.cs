using CitySight.CameraSimulator;
using CitySight.Configuration;
using CitySight.Delivery;
using CitySight.Domain;
using CitySight.Ingest;
using CitySight.Ingest.Patrol;
using CitySight.Service;
using CitySight.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace CitySight.EndToEnd.Tests;

/// <summary>轮巡 through the real service: cameras visited in turn over RTSP (connect, one keyframe, disconnect) raise cases.</summary>
public class PatrolTests
{
    [Fact]
    public async Task Patrolled_cameras_are_revisited_raise_a_case_and_a_broken_one_is_reported_without_stopping_the_rest()
    {
        await using var sim = await RtspSimulator.StartAsync(new SimulatorOptions
        {
            Port = 0,
            Mounts = [new("lot-a", TestAssets.Media("parking-lot-cctv-640x480.mp4")), new("lot-b", TestAssets.Media("parking-lot-cctv-640x480.mp4"))],
            CacheDir = Path.Combine(Path.GetTempPath(), "citysight-tests", "simulator-cache"),
        });
        Camera Cam(string id, string mount) => new()
        {
            Id = id, Name = id, GroupId = "patrol-street", Url = sim.UrlFor(mount), Mode = IngestMode.Patrol,
            SampleInterval = TimeSpan.FromSeconds(1), Detectors = ["illegal_parking"], Latitude = 31.2, Longitude = 121.4,
        };
        var dir = TestAssets.TempDir("patrol");
        var config = new CitySightConfig
        {
            SourceFile = "patrol",
            Service = new ServiceSettings { GrpcPort = TestPorts.Free(), HttpPort = TestPorts.Free(), DataDir = Path.Combine(dir, "data") },
            Models = new ModelSettings { Manifest = Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml"), SearchPaths = [Path.Combine(TestAssets.Root, "models")] },
            Rules = TestRules.Quick,
            Ingest = new IngestOptions { PatrolConcurrency = 2, SnapshotTimeout = TimeSpan.FromSeconds(10) },
            Groups = [new CameraGroup { Id = "patrol-street", Name = "Patrol street", Cameras = [Cam("p-a", "lot-a"), Cam("p-b", "lot-b"), Cam("p-broken", "no-such-mount")] }],
        };

        await using var app = CitySightHost.Build(config);
        await app.StartAsync();
        var patrol = app.Services.GetRequiredService<PatrolWorker>();
        Assert.Empty(app.Services.GetRequiredService<IngestWorker>().Sources);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await foreach (var e in CaseFeedClient.SubscribeAsync($"http://127.0.0.1:{config.Service.GrpcPort}", "patrol-test", 0, false, timeout.Token))
        {
            Assert.Contains(e.Case.CameraId, new[] { "p-a", "p-b" });
            break;
        }

        await Wait.UntilAsync(() => patrol.Status().Where(s => s.CameraId != "p-broken").All(s => s.LastGap is not null),
            TimeSpan.FromSeconds(60), "both working cameras visited at least twice");
        var broken = patrol.Status().Single(s => s.CameraId == "p-broken");
        Assert.Null(broken.LastVisit);
        Assert.True(broken.ConsecutiveFailures >= 1);
        Assert.False(string.IsNullOrEmpty(broken.Reason));
        await app.StopAsync();
    }
}
