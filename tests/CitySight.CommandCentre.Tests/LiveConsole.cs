using CitySight.CameraSimulator;
using CitySight.Configuration;
using CitySight.Domain;
using CitySight.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;

namespace CitySight.CommandCentre.Tests;

/// <summary>What the tests against the real service share: the parking-lot camera, the service's configuration, and stopping it all.</summary>
internal static class LiveConsole
{
    /// <summary>GStreamer's RTSP server playing the parking-lot clip at mount "lot".</summary>
    public static Task<RtspSimulator> ParkingLotAsync() => RtspSimulator.StartAsync(new SimulatorOptions
    {
        Port = 0,
        Mounts = [new SimulatorMount("lot", TestAssets.Media("parking-lot-cctv-640x480.mp4"))],
        CacheDir = Path.Combine(Path.GetTempPath(), "citysight-tests", "simulator-cache"),
    }, CancellationToken.None);

    /// <summary>The parking-lot camera in group test-street, asking for illegal parking in the lower 70 % of its picture.</summary>
    public static Camera ParkingCamera(string id, string name, string url) => new()
    {
        Id = id,
        Name = name,
        GroupId = "test-street",
        Url = url,
        Latitude = 31.2304,
        Longitude = 121.4737,
        SampleInterval = TimeSpan.FromSeconds(0.5),
        Detectors = ["illegal_parking"],
        Zones = [new Zone("no-parking", [new(0, 0.3), new(1, 0.3), new(1, 1), new(0, 1)], ["illegal_parking"])],
    };

    /// <summary>The service on free ports and a fresh data folder, with the repository's models, running <paramref name="groups"/>.</summary>
    public static CitySightConfig Config(string name, params CameraGroup[] groups) => new()
    {
        SourceFile = name,
        Service = new ServiceSettings
        {
            GrpcPort = TestPorts.Free(), HttpPort = TestPorts.Free(), DataDir = Path.Combine(TestAssets.TempDir(name), "data"),
        },
        Models = new ModelSettings
        {
            Manifest = Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml"),
            SearchPaths = [Path.Combine(TestAssets.RepoRoot, "models"), Path.Combine(TestAssets.Root, "models")],
        },
        Groups = groups,
    };

    /// <summary>The browser and Playwright first (the page holds the service's event stream), then the service, then the cameras.</summary>
    public static async Task StopAsync(IBrowser? browser, IPlaywright? playwright, WebApplication? app, RtspSimulator? sim)
    {
        if (browser is not null) await browser.DisposeAsync();
        playwright?.Dispose();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        if (sim is not null) await sim.DisposeAsync();
    }
}
