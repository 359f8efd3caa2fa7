using CitySight.Cases;
using CitySight.Domain;
using CitySight.Service;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CitySight.Cli.Eval;

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
        await using (var app = CitySightHost.Build(s.Config, log => log.SetMinimumLevel(LogLevel.Warning)))
        {
            await app.StartAsync(ct);
            // The files end, their sources stop, and the pipeline drains stage by stage: the case stage finishes last.
            var caseStage = app.Services.GetServices<IHostedService>().OfType<CaseWorker>().Single();
            await caseStage.ExecuteTask!.WaitAsync(ct);
            cases = await app.Services.GetRequiredService<CaseStore>().OpenSinceAsync(DateTimeOffset.MinValue, ct);
            await app.StopAsync(CancellationToken.None);
        }
        // A file's frames are timed from its last-write time (CaptureClock): video time = capture time − that anchor.
        var anchors = s.Config.Cameras.ToDictionary(c => c.Id, c => new DateTimeOffset(File.GetLastWriteTimeUtc(c.Url), TimeSpan.Zero));
        return Score.Match(s, cases, anchors, started.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// When the case was raised, in capture time. The store keeps when the object was first seen, not when the case was
    /// opened; the rule that raised it opens it once the object has stayed its min_dwell (and the confirm samples have
    /// passed, a sample or two more), so the raise is at FirstSeen + min_dwell, to within a sample or two.
    /// </summary>
    public static DateTimeOffset RaisedAt(Case c, Configuration.CitySightConfig config) => c.FirstSeen + config.Rules.ForType(c.CaseType).MinDwell;
}
