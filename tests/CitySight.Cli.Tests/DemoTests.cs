using System.Diagnostics;
using System.Text;
using CitySight.Tests;

namespace CitySight.Cli.Tests;

/// <summary>
/// `citysight demo` as a user runs it: a real process with the real camera simulator, model, service and console
/// client, on the shipped camera file (moved to free ports so it runs beside anything else).
/// </summary>
public class DemoTests
{
    private const string GarbageCase = "type      garbage ";
    private const string ParkingCase = "type      illegal_parking ";

    [Fact]
    public async Task The_demo_prints_a_parking_case_from_the_clip_and_a_garbage_case_from_the_materials_scene()
    {
        var dir = TestAssets.TempDir("cli-demo");
        var (rtsp, grpc, http) = (TestPorts.Free(), TestPorts.Free(), TestPorts.Free());
        var cameras = File.ReadAllText(Path.Combine(TestAssets.RepoRoot, "configs", "cameras", "demo.yaml"));
        Assert.Contains("rtsp://127.0.0.1:8554/garbage-left", cameras);
        Directory.CreateDirectory(Path.Combine(dir, "cameras"));
        File.WriteAllText(Path.Combine(dir, "cameras", "demo.yaml"), cameras.Replace("127.0.0.1:8554/", $"127.0.0.1:{rtsp}/", StringComparison.Ordinal));
        // Shorter settle and dwell than the shipped file's keep the test short: the pallets appear 10 s into the scene,
        // so its case comes about 20 s after the cameras connect instead of a minute.
        var config = Path.Combine(dir, "citysight.yaml");
        File.WriteAllText(config, $"""
            service: {"{"} grpc_port: {grpc}, http_port: {http}, data_dir: data {"}"}
            models:
              manifest: {Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml")}
              search_paths: [{Path.Combine(TestAssets.Root, "models")}]
              static_objects: {"{"} settle_time: 3s {"}"}
            rules:
              case_types:
                illegal_parking: {"{"} min_dwell: 2s, stationary: false {"}"}
                garbage: {"{"} min_dwell: 2s {"}"}
            cameras: cameras
            """);

        var output = await RunDemoUntilAsync(TimeSpan.FromSeconds(120), printed => printed.Contains(GarbageCase) && printed.Contains(ParkingCase),
            "demo", "--config", config, "--video", TestAssets.Media("parking-lot-cctv-640x480.mp4"));

        Assert.Contains("garbage-left ← garbage-left-d1-", output);
        Assert.Contains("parking-lot ← parking-lot-cctv-640x480.mp4", output);
        // One garbage case, from the scene's camera, raised by the static-object pass (no model knows the pallets).
        var garbage = output.Split("── case ").Where(c => c.Contains(GarbageCase)).ToList();
        Assert.Single(garbage);
        Assert.Contains("camera    site-road-1 ", garbage[0]);
        Assert.Contains("zone site-road", garbage[0]);
        Assert.Contains("object    static_object ", garbage[0]);
        Assert.Contains(output.Split("── case ").Where(c => c.Contains(ParkingCase)), c => c.Contains("camera    parking-lot-1 "));
        Assert.Single(Directory.GetFiles(Path.Combine(dir, "data", "cache"), "garbage-left-d1-*.mp4"));
        Assert.Contains("demo: stopped after", output);
    }

    /// <summary>
    /// Runs citysight until its stdout satisfies <paramref name="done"/>, then stops it as Ctrl+C does (SIGINT) and
    /// returns all it printed; fails with the output so far when <paramref name="limit"/> passes first.
    /// </summary>
    private static async Task<string> RunDemoUntilAsync(TimeSpan limit, Func<string, bool> done, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestAssets.RepoRoot };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "citysight.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["CITYSIGHT_CONFIG"] = "";
        var stdout = new StringBuilder();
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stdout)
            {
                stdout.AppendLine(e.Data);
                if (done(stdout.ToString())) reached.TrySetResult();
            }
        };
        var stderr = new StringBuilder();
        p.ErrorDataReceived += (_, e) =>
        {
            lock (stderr) stderr.AppendLine(e.Data);
        };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        string Printed()
        {
            lock (stdout) lock (stderr) return $"{stdout}\nstderr:\n{stderr}";
        }
        try
        {
            await reached.Task.WaitAsync(limit);
            using (var signal = Process.Start("kill", ["-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await signal.WaitForExitAsync();
            await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"citysight {string.Join(' ', args)}: not done within {limit.TotalSeconds:0} s; it printed:\n{Printed()}");
        }
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}; it printed:\n{Printed()}");
        lock (stdout) return stdout.ToString();
    }
}
