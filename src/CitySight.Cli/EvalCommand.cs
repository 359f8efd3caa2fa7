using System.CommandLine;
using CitySight.Eval;

namespace CitySight.Cli;

/// <summary>
/// <c>citysight eval DIR</c>: plays a scenario folder (or a folder of them) through the real pipeline as fast as it
/// decodes and scores the cases against the scenario's expected events (<see cref="EvalRunner"/>); this parses the arguments. Exit 0: every event matched exactly once and
/// no unmatched case; 1: otherwise; 2: bad input.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("SCENARIO_DIR") { Description = "A scenario folder (with scenario.yaml) or a folder of scenario folders" };
        var json = new Option<string?>("--json") { Description = "Write the scores, matched and unmatched cases and events to this file" };
        var media = new Option<string?>("--media")
        {
            Description = "Folder to look for scenario videos in when they are not beside scenario.yaml (default: $CITYSIGHT_SCENARIO_MEDIA); scenarios/make-media.sh builds it",
        };
        var config = ConfigPaths.ConfigOption();
        var cmd = new Command("eval", "Run scenario videos through the real pipeline and print precision, recall and duplicates against their expected events")
        {
            dir, json, media, config,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var root = parse.GetValue(dir)!;
            var mediaDir = parse.GetValue(media) ?? (Environment.GetEnvironmentVariable("CITYSIGHT_SCENARIO_MEDIA") is { Length: > 0 } m ? m : null);
            var folders = ScenarioLoader.Folders(root);
            if (folders is null)
            {
                Console.Error.WriteLine($"eval: {root} holds no scenario.yaml, and no folder in it does");
                return 2;
            }
            var baseConfig = ConfigPaths.LoadOrReport(ConfigPaths.Resolve(parse.GetValue(config)));
            if (baseConfig is null) return 2;
            return await EvalRunner.RunAsync(folders, mediaDir, baseConfig, parse.GetValue(json), ct);
        });
        return cmd;
    }
}
