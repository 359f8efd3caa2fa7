using System.CommandLine;
using System.Text.Json;
using CitySight.Domain;
using CitySight.Ingest;

namespace CitySight.Cli;

/// <summary>
/// `citysight probe URL` or `citysight probe --camera ID`: what a camera stream is (codec, size, frame rate, GOP) or
/// exactly why it cannot be read. By camera id the URL comes from the configuration, so a password never has to be
/// typed on a command line (where every local user could read it in /proc), and rtsps is checked against
/// ingest.rtsps_ca_file as the service would.
/// </summary>
internal static class ProbeCommand
{
    public static Command Create()
    {
        var url = new Argument<string?>("URL") { Description = "rtsp:// URL or a local video file (or use --camera)", Arity = ArgumentArity.ZeroOrOne };
        var camera = new Option<string?>("--camera") { Description = "Probe this configured camera (its URL and ingest.rtsps_ca_file from --config)" };
        var config = ConfigPaths.ConfigOption();
        var rtspsCa = new Option<string?>("--rtsps-ca") { Description = "PEM CA file an rtsps:// camera's certificate must chain to" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds before giving up", DefaultValueFactory = _ => 20 };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object" };
        var cmd = new Command("probe", "Report a stream's codec, resolution, frame rate and GOP, or a clear reason why it cannot be read.")
            { url, camera, config, rtspsCa, timeout, json };
        cmd.SetAction(async (parse, ct) =>
        {
            var given = parse.GetValue(url);
            var cameraId = parse.GetValue(camera);
            var caFile = parse.GetValue(rtspsCa);
            if (given is null == cameraId is null)
            {
                Console.Error.WriteLine("citysight probe: give either a URL or --camera ID");
                return 2;
            }
            var target = given ?? "";
            if (cameraId is not null)
            {
                var cfg = ConfigPaths.LoadOrReport(ConfigPaths.Resolve(parse.GetValue(config)));
                if (cfg is null) return 2;
                if (cfg.Cameras.FirstOrDefault(c => c.Id == cameraId) is not { } cam)
                {
                    Console.Error.WriteLine($"citysight probe: no camera '{cameraId}' in {cfg.SourceFile}");
                    return 2;
                }
                target = cam.Url;
                caFile ??= cfg.Ingest.RtspsCaFile;
            }
            var r = await StreamProbe.ProbeAsync(target, TimeSpan.FromSeconds(parse.GetValue(timeout)), ct, rtspsCaFile: caFile);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    url = Secrets.RedactUrl(target),
                    camera = cameraId,
                    ok = r.Succeeded,
                    failure_kind = r.FailureKind?.ToString(),
                    failure = r.Failure,
                    codec = r.Codec,
                    width = r.Width,
                    height = r.Height,
                    fps = r.FrameRate,
                    gop_frames = r.GopFrames,
                    gop_s = r.Gop?.TotalSeconds,
                    bitrate = r.BitRate,
                    live = r.IsLive,
                }));
            }
            else if (r.Succeeded)
            {
                var gop = r.Gop is { } g ? $"GOP {g.TotalSeconds:0.##} s ({r.GopFrames} frames)" : "GOP unknown (fewer than two keyframes seen)";
                Console.WriteLine($"{Secrets.RedactUrl(target)}: {r.Codec} {r.Width}x{r.Height} {r.FrameRate:0.##} fps, {gop}{(r.BitRate is { } b ? $", {b / 1000} kbit/s" : "")}");
            }
            else
            {
                Console.Error.WriteLine($"{Secrets.RedactUrl(target)}: {r.FailureKind}: {r.Failure}");
            }
            return r.Succeeded ? 0 : 1;
        });
        return cmd;
    }
}
