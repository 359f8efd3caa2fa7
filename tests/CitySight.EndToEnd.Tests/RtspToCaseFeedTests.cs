using System.Net.Http.Json;
using System.Text.Json;
using CitySight.CameraSimulator;
using CitySight.Configuration;
using CitySight.Delivery;
using CitySight.Delivery.V1;
using CitySight.Domain;
using CitySight.Ingest;
using CitySight.Ingest.Patrol;
using CitySight.Service;
using CitySight.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenCvSharp;

namespace CitySight.EndToEnd.Tests;

/// <summary>
/// The first slice for real: GStreamer's RTSP server serves the real parking-lot CCTV clip, the service decodes it
/// with ffmpeg, detects vehicles with the real ONNX model, commits a case to SQLite, and a gRPC client receives it.
/// </summary>
public sealed class RtspToCaseFeedTests : IAsyncLifetime
{
    private RtspSimulator _sim = null!;
    private WebApplication _app = null!;
    private CitySightConfig _config = null!;

    private const string SecretUrl = "rtsp://ops-user:s3cret-pw@127.0.0.3:9/stream-path-9?token=tok-abc-123";
    private static readonly string[] SecretParts = ["ops-user", "s3cret-pw", "127.0.0.3", "stream-path-9", "token", "tok-abc-123"];

    public async Task InitializeAsync()
    {
        var dir = TestAssets.TempDir("e2e");
        _sim = await RtspSimulator.StartAsync(new SimulatorOptions
        {
            Port = 0,
            Mounts = [new SimulatorMount("lot", TestAssets.Media("parking-lot-cctv-640x480.mp4"))],
            CacheDir = Path.Combine(Path.GetTempPath(), "citysight-tests", "simulator-cache"),
        }, CancellationToken.None);

        var camera = new Camera
        {
            Id = "lot-north",
            Name = "Parking lot north",
            GroupId = "test-street",
            Url = _sim.UrlFor("lot"),
            Latitude = 31.2304,
            Longitude = 121.4737,
            SampleInterval = TimeSpan.FromSeconds(0.5),
            Detectors = ["illegal_parking"],
            // the site road and bays: the lower part of the picture
            Zones = [new Zone("no-parking", [new(0, 0.3), new(1, 0.3), new(1, 1), new(0, 1)], ["illegal_parking"])],
        };
        // A second camera whose mount does not exist: it must fail alone, without touching the first.
        var broken = camera with { Id = "lot-broken", Url = _sim.UrlFor("no-such-mount") };
        // Cameras with a password and a query token, streamed and patrolled, that cannot be reached (nothing listens on
        // 127.0.0.3:9): /healthz and /metrics must name them by id only.
        var secret = camera with { Id = "lot-secret", Url = SecretUrl };
        var patrolled = camera with { Id = "lot-secret-patrol", Url = SecretUrl.Replace("stream-path-9", "stream-path-9b"), Mode = IngestMode.Patrol };
        _config = new CitySightConfig
        {
            SourceFile = "e2e",
            Service = new ServiceSettings { GrpcPort = TestPorts.Free(), HttpPort = TestPorts.Free(), DataDir = Path.Combine(dir, "data") },
            Models = new ModelSettings
            {
                Manifest = Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml"),
                SearchPaths = [Path.Combine(TestAssets.RepoRoot, "models"), Path.Combine(TestAssets.Root, "models")],
            },
            Rules = TestRules.Quick,
            Groups = [new CameraGroup { Id = "test-street", Name = "Test street", Street = "Test Road", Grid = "g-1", Cameras = [camera, broken, secret, patrolled] }],
        };
        _app = CitySightHost.Build(_config);
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _sim.DisposeAsync();
    }

    [Fact]
    public async Task A_vehicle_on_the_rtsp_camera_reaches_the_grpc_client_as_a_case_and_the_service_survives_the_camera_server_dying()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        CaseEvent? first = null;
        await foreach (var e in CaseFeedClient.SubscribeAsync($"http://127.0.0.1:{_config.Service.GrpcPort}", "e2e", 0, includeEvidence: true, timeout.Token))
        {
            first = e;
            break;
        }

        Assert.NotNull(first);
        var c = first!.Case;
        Assert.Equal("illegal_parking", c.CaseType.Id);
        Assert.Equal(Domain.CaseType.Defaults.Single(t => t.Id == "illegal_parking").Code, c.CaseType.Code);
        Assert.Equal("lot-north", c.CameraId);
        Assert.Equal("test-street", c.GroupId);
        Assert.Equal("Test Road", c.Street);
        Assert.Equal(31.2304, c.Latitude, 6);
        Assert.Contains(c.ClassName, new[] { "car", "bus", "truck", "motorbike" });
        Assert.True(c.LastSeen.ToDateTimeOffset() >= c.FirstSeen.ToDateTimeOffset());
        Assert.InRange(c.Box.X1, 0, c.Box.X2);
        Assert.InRange(c.Box.X2, c.Box.X1, c.Box.ImageWidth);
        Assert.Equal(640, c.Box.ImageWidth);
        Assert.Equal(480, c.Box.ImageHeight);
        using (var jpeg = Cv2.ImDecode(c.EvidenceJpeg.ToByteArray(), ImreadModes.Color))
        {
            Assert.False(jpeg.Empty(), "evidence is not a decodable JPEG");
            // The frame, and the caption band below it (type, camera, local time).
            Assert.Equal(640, jpeg.Width);
            Assert.InRange(jpeg.Height, 481, 480 + 240);
        }

        // Kill the camera server mid-run: the camera goes down, the service keeps serving.
        var sources = _app.Services.GetRequiredService<IngestWorker>().Sources;
        var brokenSource = sources.Single(s => s.Camera.Id == "lot-broken");
        Assert.NotEqual(CameraState.Streaming, brokenSource.Status.State);
        Assert.False(string.IsNullOrEmpty(brokenSource.Status.Reason));
        var source = sources.Single(s => s.Camera.Id == "lot-north");
        await _sim.StopAsync();
        await Wait.UntilAsync(() => source.Status.State != CameraState.Streaming, TimeSpan.FromSeconds(30), "camera to leave Streaming after the RTSP server died");

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_config.Service.HttpPort}") };
        var health = await http.GetFromJsonAsync<JsonElement>("/healthz");
        Assert.Equal("serving", health.GetProperty("status").GetString());
        Assert.All(health.GetProperty("cameras").EnumerateArray(), cam => Assert.NotEqual("Streaming", cam.GetProperty("state").GetString()));
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("citysight_frames_decoded_total", metrics);
        // The cameras with secrets in their URL have failed (with reasons) by now, and are named by id only.
        var patrol = _app.Services.GetRequiredService<PatrolWorker>();
        await Wait.UntilAsync(() => sources.Single(s => s.Camera.Id == "lot-secret").Status.Reason is { Length: > 0 }
                                    && patrol.Status().Single().Reason is { Length: > 0 },
            TimeSpan.FromSeconds(30), "the unreachable cameras to fail with a reason");
        var healthText = await http.GetStringAsync("/healthz");
        metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("lot-secret-patrol", healthText);
        foreach (var part in SecretParts)
        {
            Assert.DoesNotContain(part, healthText, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(part, metrics, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Contains("citysight_inference_seconds", metrics);
        Assert.Contains("citysight_cases_total", metrics);

        // ...and picks the camera up again when it returns.
        var framesBefore = source.Status.FramesDecoded;
        await _sim.RestartAsync();
        await Wait.UntilAsync(() => source.Status.State == CameraState.Streaming && source.Status.FramesDecoded > framesBefore,
            TimeSpan.FromSeconds(60), "camera to stream again after the RTSP server came back");
    }
}
