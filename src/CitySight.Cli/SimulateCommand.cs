using System.CommandLine;
using CitySight.CameraSimulator;

namespace CitySight.Cli;

/// <summary>Serves video files as looping RTSP cameras (GStreamer's RTSP server), for demos and tests.</summary>
internal static class SimulateCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "RTSP port", DefaultValueFactory = _ => 8554 };
        var mounts = new Option<string[]>("--mount") { Description = "NAME=VIDEO_FILE, repeatable", Required = true, AllowMultipleArgumentsPerToken = false };
        var cache = new Option<string?>("--cache") { Description = "Folder for H.264 transcodes (default: data/simulator-cache)" };
        var cmd = new Command("simulate", "Serve video files as looping RTSP cameras.") { port, mounts, cache };
        cmd.SetAction(async (parse, ct) =>
        {
            var pairs = new List<SimulatorMount>();
            foreach (var m in parse.GetValue(mounts)!)
            {
                var eq = m.IndexOf('=');
                if (eq <= 0 || !File.Exists(m[(eq + 1)..]))
                {
                    Console.Error.WriteLine($"simulate: --mount {m}: expected NAME=EXISTING_VIDEO_FILE");
                    return 2;
                }
                pairs.Add(new SimulatorMount(m[..eq], Path.GetFullPath(m[(eq + 1)..])));
            }
            await using var sim = await RtspSimulator.StartAsync(new SimulatorOptions
            {
                Port = parse.GetValue(port),
                Mounts = pairs,
                CacheDir = parse.GetValue(cache) ?? Path.GetFullPath(Path.Combine("data", "simulator-cache")),
            }, ct);
            foreach (var p in pairs) Console.WriteLine($"serving {sim.UrlFor(p.Name)}  ←  {p.VideoPath}");
            try { await Task.Delay(Timeout.Infinite, ct); } catch (OperationCanceledException) { }
            return 0;
        });
        return cmd;
    }
}
