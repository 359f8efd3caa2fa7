using System.CommandLine;
using System.Text.Json;
using CitySight.Domain;
using CitySight.Ingest;

namespace CitySight.Cli;

/// <summary>`citysight probe URL`: what a camera stream is (codec, size, frame rate, GOP) or exactly why it cannot be read.</summary>
internal static class ProbeCommand
{
    public static Command Create()
    {
        var url = new Argument<string>("URL") { Description = "rtsp:// URL or a local video file" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds before giving up", DefaultValueFactory = _ => 20 };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object" };
        var cmd = new Command("probe", "Report a stream's codec, resolution, frame rate and GOP, or a clear reason why it cannot be read.") { url, timeout, json };
        cmd.SetAction(async (parse, ct) =>
        {
            var target = parse.GetValue(url)!;
            var r = await StreamProbe.ProbeAsync(target, TimeSpan.FromSeconds(parse.GetValue(timeout)), ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    url = Secrets.RedactUrl(target),
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
