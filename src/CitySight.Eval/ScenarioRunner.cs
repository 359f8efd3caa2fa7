using CitySight.Cases;
using CitySight.Domain;
using CitySight.Ingest;
using CitySight.Service;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CitySight.Eval;

/// <summary>A case as scored: where and when (video time) it was raised, and which event it matched.</summary>
public sealed record ScoredCase(string Id, string Type, string Camera, double RaisedAtS, double FirstSeenS, double[] Box, double[] BoxNormalised,
    float Confidence, string ClassName, int? Event, bool Duplicate);

public sealed record ScoredEvent(int Index, string Type, IReadOnlyList<string> Cameras, double[] At, double FromS, double UntilS, IReadOnlyList<string> Cases);

public sealed record ScenarioResult(string Name, string Folder, double WallSeconds, Score Score, IReadOnlyList<ScoredCase> Cases, IReadOnlyList<ScoredEvent> Events);

/// <summary>Plays a scenario through the real service (<see cref="CitySightHost.Build"/>) and scores its cases.</summary>
public static class ScenarioRunner
{
    public const double Tolerance = 0.05;

    public static async Task<ScenarioResult> RunAsync(Scenario s, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyList<Case> cases;
        // Ports taken now, not at load time: a scenario run minutes after loading must not find them gone.
        var config = s.Config with { Service = s.Config.Service with { GrpcPort = ScenarioLoader.FreePort(), HttpPort = ScenarioLoader.FreePort() } };
        await using (var app = CitySightHost.Build(config, log => log.SetMinimumLevel(LogLevel.Warning)))
        {
            await app.StartAsync(ct);
            // The files end, their sources stop, and the pipeline drains stage by stage: the case stage finishes last.
            var caseStage = app.Services.GetServices<IHostedService>().OfType<CitySight.Rules.CaseRaisingWorker>().Single();
            await caseStage.ExecuteTask!.WaitAsync(ct);
            // Every case raised, closed ones included (a case closed as gone still counts).
            cases = await app.Services.GetRequiredService<ICaseRecords>().CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true, ct);
            await app.StopAsync(CancellationToken.None);
        }
        // A file's frames are timed from its start (starts_at, else its last-write time): video time = capture time − that.
        var anchors = s.Config.Cameras.ToDictionary(c => c.Id, c => VideoReader.FileStart(c.Url, c.StartsAt));
        return Score.Match(s, cases, anchors, started.Elapsed.TotalSeconds);
    }

    /// <summary>When the case was raised: the capture time of the frame its rules raised it on (first seen for a case from an older store).</summary>
    public static DateTimeOffset RaisedAt(Case c) => c.RaisedAt ?? c.FirstSeen;
}
