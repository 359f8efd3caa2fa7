using CitySight.Cases;
using CitySight.Configuration;
using CitySight.Domain;
using CitySight.Service;
using CitySight.Tests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CitySight.EndToEnd.Tests;

/// <summary>Plays video files through the whole service (real model, rules, store) until they end, and returns the cases.</summary>
internal static class FilePlayback
{
    /// <param name="cameras">File cameras of one group (their GroupId).</param>
    public static async Task<IReadOnlyList<Case>> PlayAsync(string name, params Camera[] cameras)
    {
        var dir = TestAssets.TempDir(name);
        var group = cameras[0].GroupId;
        var config = new CitySightConfig
        {
            SourceFile = name,
            Service = new ServiceSettings { GrpcPort = TestPorts.Free(), HttpPort = TestPorts.Free(), DataDir = Path.Combine(dir, "data") },
            Models = new ModelSettings
            {
                Manifest = Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml"),
                SearchPaths = [Path.Combine(TestAssets.Root, "models")],
            },
            Rules = TestRules.Quick,
            Groups = [new CameraGroup { Id = group, Name = group, Cameras = cameras }],
        };

        await using var app = CitySightHost.Build(config);
        await app.StartAsync();
        // The files end, their sources stop, and the pipeline drains stage by stage: the case stage is the last to finish.
        var caseStage = app.Services.GetServices<IHostedService>().OfType<CitySight.Rules.CaseRaisingWorker>().Single();
        await caseStage.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(120));
        var cases = await app.Services.GetRequiredService<ICaseRecords>().OpenSinceAsync(DateTimeOffset.MinValue);
        await app.StopAsync();
        return cases;
    }
}
