using CitySight.Cases;
using CitySight.Configuration;
using CitySight.Domain;
using CitySight.Service;
using CitySight.Tests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CitySight.EndToEnd.Tests;

/// <summary>
/// Rules and dedup run on capture time, never the wall clock: a file replayed as fast as it decodes gives the same
/// cases, with the same ids, as the same file played in real time.
/// </summary>
public class ReplayTests
{
    private static async Task<IReadOnlyList<Case>> PlayAsync(bool realTime)
    {
        var dir = TestAssets.TempDir("replay");
        var camera = new Camera
        {
            Id = "lot-file",
            Name = "Parking lot (file)",
            GroupId = "replay",
            Url = TestAssets.Media("parking-lot-cctv-640x480.mp4"),
            SampleInterval = TimeSpan.FromSeconds(0.5),
            Detectors = ["illegal_parking"],
            RealTime = realTime,
        };
        var config = new CitySightConfig
        {
            SourceFile = "replay",
            Service = new ServiceSettings { GrpcPort = Wait.FreeTcpPort(), HttpPort = Wait.FreeTcpPort(), DataDir = Path.Combine(dir, "data") },
            Models = new ModelSettings
            {
                Manifest = Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml"),
                SearchPaths = [Path.Combine(TestAssets.Root, "models")],
            },
            Rules = TestRules.Quick,
            Groups = [new CameraGroup { Id = "replay", Name = "Replay", Cameras = [camera] }],
        };

        await using var app = CitySightHost.Build(config);
        await app.StartAsync();
        // The file ends, its source stops, and the pipeline drains stage by stage: the case stage is the last to finish.
        var caseStage = app.Services.GetServices<IHostedService>().OfType<CaseWorker>().Single();
        await caseStage.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(90));
        var cases = await app.Services.GetRequiredService<CaseStore>().OpenSinceAsync(DateTimeOffset.MinValue);
        await app.StopAsync();
        return cases;
    }

    [Fact]
    public async Task Fast_replays_and_a_real_time_play_of_the_same_file_give_the_same_cases()
    {
        var fast1 = await PlayAsync(realTime: false);
        var fast2 = await PlayAsync(realTime: false);
        var real = await PlayAsync(realTime: true);

        Assert.NotEmpty(fast1);
        static string Key(Case c) => $"{c.Id} {c.FirstSeen:O} {c.ClassName}";
        Assert.Equal(fast1.Select(Key).Order(), fast2.Select(Key).Order());
        Assert.Equal(fast1.Select(Key).Order(), real.Select(Key).Order());
    }
}
