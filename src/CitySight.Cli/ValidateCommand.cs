using System.CommandLine;

namespace CitySight.Cli;

internal static class ValidateCommand
{
    public static Command Create()
    {
        var path = new Argument<string?>("PATH") { Description = "citysight.yaml (default: configs/citysight.yaml)", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("validate", "Check a configuration and its camera groups; every error names file:line and field.") { path };
        cmd.SetAction(parse =>
        {
            var file = ConfigPaths.Resolve(parse.GetValue(path));
            var cfg = ConfigPaths.LoadOrReport(file);
            if (cfg is null) return 2;
            Console.WriteLine($"{file}: valid: {cfg.Groups.Count} camera group(s), {cfg.Cameras.Count()} camera(s), model(s) {string.Join(", ", cfg.Models.Run.Select(r => $"{r.Model} on {r.Detector.Provider.ToString().ToLowerInvariant()}"))}");
            return 0;
        });
        return cmd;
    }
}
