using System.Net;
using CitySight.CameraSimulator;
using CitySight.Configuration;
using CitySight.Domain;
using CitySight.Inference;
using CitySight.Ingest;
using CitySight.Ingest.Patrol;
using CitySight.Service;
using CitySight.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace CitySight.EndToEnd.Tests;

/// <summary>A patrolled camera's picture in the console is its latest visit's frame (轮巡 cameras have no stream to take it from).</summary>
public class PatrolPictureTests
{
    [Fact]
    public async Task A_patrolled_camera_s_picture_is_renewed_by_its_visits_and_a_camera_never_reached_has_none()
    {
        await using var sim = await RtspSimulator.StartAsync(new SimulatorOptions
        {
            Port = 0,
            Mounts = [new("lot-a", TestAssets.Media("parking-lot-cctv-640x480.mp4"))],
            CacheDir = Path.Combine(Path.GetTempPath(), "citysight-tests", "simulator-cache"),
        });
        Camera Cam(string id, string mount) => new()
        {
            Id = id, Name = id, GroupId = "patrol-street", Url = sim.UrlFor(mount), Mode = IngestMode.Patrol,
            SampleInterval = TimeSpan.FromSeconds(1), Detectors = ["illegal_parking"], Latitude = 31.2, Longitude = 121.4,
        };
        var config = new CitySightConfig
        {
            SourceFile = "patrol-picture",
            Service = new ServiceSettings { GrpcPort = TestPorts.Free(), HttpPort = TestPorts.Free(), DataDir = Path.Combine(TestAssets.TempDir("patrol-picture"), "data") },
            Models = new ModelSettings { Manifest = Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml"), SearchPaths = [Path.Combine(TestAssets.Root, "models")] },
            Rules = TestRules.Quick,
            Ingest = new IngestOptions { PatrolConcurrency = 2, SnapshotTimeout = TimeSpan.FromSeconds(10) },
            Pictures = new PictureOptions { Interval = TimeSpan.FromSeconds(1) },
            Groups = [new CameraGroup { Id = "patrol-street", Name = "Patrol street", Cameras = [Cam("p-a", "lot-a"), Cam("p-broken", "no-such-mount")] }],
        };
        await using var app = CitySightHost.Build(config);
        await app.StartAsync();
        var patrol = app.Services.GetRequiredService<PatrolWorker>();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{config.Service.HttpPort}") };

        async Task<DateTimeOffset?> CapturedAt()
        {
            using var r = await http.GetAsync("/api/v1/cameras/p-a/picture");
            return r.IsSuccessStatusCode ? DateTimeOffset.Parse(r.Headers.GetValues("X-Captured-At").Single()) : null;
        }
        await Wait.UntilAsync(async () => await CapturedAt() is not null, TimeSpan.FromSeconds(60), "p-a's first picture");
        var first = (await CapturedAt())!.Value;
        await Wait.UntilAsync(async () => await CapturedAt() is { } later && later > first, TimeSpan.FromSeconds(60), "a later visit's picture");
        Assert.Null(patrol.Status().Single(s => s.CameraId == "p-broken").LastVisit);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/v1/cameras/p-broken/picture")).StatusCode);
        await app.StopAsync();
    }
}
