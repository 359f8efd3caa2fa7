using System.CommandLine;
using System.Diagnostics;
using CitySight.CameraSimulator;
using CitySight.Service;

namespace CitySight.Cli;

/// <summary>
/// The whole job on the embedded defaults: the camera simulator serves real street video on every local RTSP
/// URL of the configuration, the service runs, and a console client prints each case from the gRPC stream.
/// A URL whose path names a demo scene (<see cref="DemoScenes"/>, e.g. /garbage-left) serves that scene, composed
/// from the demo clip into data/cache on first use; every other URL serves the clip (or --video).
/// </summary>
internal static class DemoCommand
{
    private const string DemoVideo = "parking-lot-cctv-640x480.mp4";
    private const string SimulatorFfmpeg = "ffmpeg";

    public static Command Create()
    {
        var config = ConfigPaths.ConfigOption();
        var video = new Option<string?>("--video") { Description = $"Video the simulated cameras serve, except those whose URL names a demo scene (default: ../shared/assets/media/{DemoVideo})" };
        var duration = new Option<double?>("--duration") { Description = "Stop after this many seconds (default: run until Ctrl+C)" };
        var cases = new Option<int?>("--cases") { Description = "Stop after this many cases have been received" };
        var cmd = new Command("demo", "Camera simulator + CitySight service + console case client, on the default configuration.") { config, video, duration, cases };
        cmd.SetAction(async (parse, ct) =>
        {
            var configPath = ConfigPaths.Resolve(parse.GetValue(config));
            var cfg = ConfigPaths.LoadOrReport(configPath);
            if (cfg is null) return 2;
            var clip = FindDemoVideo(configPath);
            var videoPath = parse.GetValue(video) ?? clip;
            if (videoPath is null || !File.Exists(videoPath))
            {
                Console.Error.WriteLine($"demo: no demo video: expected ../shared/assets/media/{DemoVideo} beside the checkout, or pass --video FILE");
                return 2;
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (parse.GetValue(duration) is { } seconds) stop.CancelAfter(TimeSpan.FromSeconds(seconds));

            var local = cfg.Cameras.Where(c => c.Enabled && Uri.TryCreate(c.Url, UriKind.Absolute, out var u) && u.Scheme == "rtsp" && u.IsLoopback)
                .Select(c => new Uri(c.Url)).ToList();
            RtspSimulator? sim = null;
            try
            {
                if (local.Count > 0)
                {
                    var port = local[0].Port;
                    // Scenes are composed from the parking-lot clip (their boxes are in its pixels): the one beside the
                    // checkout, or --video when it is that clip.
                    var sceneClip = clip ?? (Path.GetFileName(videoPath) == DemoVideo ? Path.GetFullPath(videoPath) : null);
                    var sceneCache = Path.Combine(cfg.Service.DataDir, "cache");
                    var mounts = new List<SimulatorMount>();
                    foreach (var name in local.Where(u => u.Port == port).Select(u => u.AbsolutePath.Trim('/')).Distinct())
                    {
                        var served = Path.GetFullPath(videoPath);
                        if (DemoScenes.IsScene(name))
                        {
                            if (sceneClip is null)
                                Console.WriteLine($"demo: no {DemoVideo} to compose the {name} scene from; {name} serves {Path.GetFileName(videoPath)}");
                            else
                                served = await DemoScenes.EnsureAsync(name, sceneClip, sceneCache, SimulatorFfmpeg, stop.Token);
                        }
                        mounts.Add(new SimulatorMount(name, served));
                    }
                    Console.WriteLine($"demo: starting the camera simulator on rtsp://127.0.0.1:{port} ({mounts.Count} camera(s), looping: " +
                                      string.Join(", ", mounts.Select(m => $"{m.Name} ← {Path.GetFileName(m.VideoPath)}")) + ")");
                    sim = await RtspSimulator.StartAsync(new SimulatorOptions
                    {
                        Port = port,
                        Mounts = mounts,
                        CacheDir = Path.Combine(cfg.Service.DataDir, "simulator-cache"),
                        FfmpegPath = SimulatorFfmpeg,
                    }, stop.Token);
                }

                Console.WriteLine($"demo: starting CitySight (gRPC :{cfg.Service.GrpcPort}, metrics http://127.0.0.1:{cfg.Service.HttpPort}/metrics, data {cfg.Service.DataDir})");
                await using var app = CitySightHost.Build(cfg);
                await app.StartAsync(stop.Token);
                var started = Stopwatch.StartNew();

                Console.WriteLine("demo: console client subscribed to the case stream; cases print below as they arrive (Ctrl+C to stop)");
                var received = 0;
                var want = parse.GetValue(cases);
                void OnCase()
                {
                    if (++received == 1) Console.WriteLine($"demo: first case after {started.Elapsed.TotalSeconds:F1} s");
                    if (want is { } n && received >= n) stop.Cancel();
                }
                try
                {
                    await WatchCommand.WatchAsync($"http://127.0.0.1:{cfg.Service.GrpcPort}", "demo-console", 0,
                        Path.Combine(cfg.Service.DataDir, "received"), Console.Out, OnCase, stop.Token);
                }
                catch (OperationCanceledException) { }
                catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.Cancelled) { }

                await app.StopAsync(CancellationToken.None);
                Console.WriteLine($"demo: stopped after {started.Elapsed.TotalSeconds:F0} s, {received} case(s) received");
                return 0;
            }
            finally
            {
                if (sim is not null) await sim.DisposeAsync();
            }
        });
        return cmd;
    }

    private static string? FindDemoVideo(string configPath)
    {
        for (var d = new DirectoryInfo(Path.GetDirectoryName(configPath)!); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "shared", "assets", "media", DemoVideo);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
