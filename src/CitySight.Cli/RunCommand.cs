using System.CommandLine;
using Microsoft.Extensions.Hosting;
using CitySight.Service;

namespace CitySight.Cli;

internal static class RunCommand
{
    public static Command Create()
    {
        var config = ConfigPaths.ConfigOption();
        var cmd = new Command("run", "Run the CitySight service: cameras → detector → cases on the gRPC CaseFeed.") { config };
        cmd.SetAction(async (parse, ct) =>
        {
            var cfg = ConfigPaths.LoadOrReport(ConfigPaths.Resolve(parse.GetValue(config)));
            if (cfg is null) return 2;
            try
            {
                await using var app = CitySightHost.Build(cfg);
                await app.StartAsync(ct);
                await app.WaitForShutdownAsync(ct);
                return 0;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Console.Error.WriteLine($"citysight: cannot start: {ex.Message}");
                return 1;
            }
        });
        return cmd;
    }
}
