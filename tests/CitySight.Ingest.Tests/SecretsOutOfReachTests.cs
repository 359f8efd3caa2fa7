using System.Collections.Concurrent;
using CitySight.CameraSimulator;
using CitySight.Domain;
using CitySight.Tests;
using Xunit.Abstractions;

namespace CitySight.Ingest.Tests;

/// <summary>
/// Runs alone (after the parallel tests): it sets an environment variable of this process and reads every process's
/// environment, so no other test may start children meanwhile.
/// </summary>
[CollectionDefinition(nameof(SecretsCollection), DisableParallelization = true)]
public sealed class SecretsCollection;

/// <summary>
/// Issue 14: while cameras with passwords and tokens are streamed, snapshotted and probed, no process's command line or
/// environment holds a password, a token, or a secret from the service's own environment.
/// </summary>
[Collection(nameof(SecretsCollection))]
public sealed class SecretsOutOfReachTests(ITestOutputHelper output)
{
    private const string EnvironmentSecretName = "CITYSIGHT_TEST_SECRET";

    [Fact]
    public async Task NoChildsCommandLineOrEnvironment_HoldsASecret_WhileStreamingSnapshottingAndProbing()
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        var secrets = new Dictionary<string, string>
        {
            ["password"] = "pw-" + id,
            ["token"] = "tk-" + id,
            ["environment secret"] = "env-" + id,
        };
        var media = TestAssets.Media("parking-lot-cctv-640x480.mp4");
        await using var simulator = await RtspSimulator.StartAsync(new SimulatorOptions
        {
            Mounts = [new SimulatorMount("live", media), new SimulatorMount("patrol", media), new SimulatorMount("probe", media)],
            Credentials = new SimulatorCredentials("operator", secrets["password"]),
        }, CancellationToken.None);
        var liveUrl = simulator.UrlFor("live", withCredentials: true);
        var patrolUrl = simulator.UrlFor("patrol", withCredentials: true) + "?channel=1&token=" + secrets["token"];
        var probeUrl = simulator.UrlFor("probe", withCredentials: true);

        // Set after the simulator started: it is not started through FfmpegProcess, and inherits what it is given.
        Environment.SetEnvironmentVariable(EnvironmentSecretName, secrets["environment secret"]);
        var findings = new ConcurrentQueue<string>();
        var seen = new ConcurrentDictionary<int, FfmpegChild>();
        var scans = 0;
        using var stopScanning = new CancellationTokenSource();
        var scanning = Task.Run(async () =>
        {
            while (!stopScanning.IsCancellationRequested)
            {
                foreach (var f in ProcessScan.FindSecrets(secrets)) findings.Enqueue(f);
                foreach (var c in ProcessScan.FfmpegChildren(simulator.Port))
                    if (c.ConnectedTo) seen.TryAdd(c.Pid, c);
                Interlocked.Increment(ref scans);
                await Task.Delay(10); // pacing only: the machine's cores are shared
            }
        });
        using var stopStreaming = new CancellationTokenSource();
        var firstFrame = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var streaming = Task.Run(async () =>
        {
            await foreach (var f in VideoReader.ReadAsync("live-cam", liveUrl, new VideoReadOptions(), stopStreaming.Token))
            {
                f.Dispose();
                firstFrame.TrySetResult();
            }
        });
        try
        {
            await Task.WhenAny(firstFrame.Task, streaming).WaitAsync(StreamWait.Long);
            Assert.True(firstFrame.Task.IsCompleted, $"the live camera delivered no frame: {streaming.Exception?.InnerException?.Message}");

            // Patrol visits until a scan has caught one's ffmpeg (each lives for a fraction of a second).
            for (var visit = 0; visit < 10 && !seen.Values.Any(c => Role(c) == "snapshot"); visit++)
            {
                using var frame = await VideoReader.SnapshotAsync("patrol-cam", patrolUrl, new SnapshotOptions { Sequence = visit });
                Assert.Equal((640, 480), (frame.Width, frame.Height));
            }
            var probe = await StreamProbe.ProbeAsync(probeUrl, TimeSpan.FromSeconds(15));
            Assert.True(probe.Succeeded, probe.Failure);
            Assert.Equal(("h264", 640, 480), (probe.Codec, probe.Width, probe.Height));
            Assert.Equal(simulator.UrlFor("probe").Replace("rtsp://", "rtsp://operator:***@", StringComparison.Ordinal), probe.Url);

            // A wrong password is still an auth failure, told with the camera and the redacted URL.
            var wrongUrl = patrolUrl.Replace(secrets["password"], "not-the-password", StringComparison.Ordinal);
            var refused = await Assert.ThrowsAsync<StreamException>(() => VideoReader.SnapshotAsync("patrol-cam", wrongUrl, new SnapshotOptions()));
            output.WriteLine(refused.Message);
            Assert.Equal((StreamFailureKind.Unauthorized, "patrol-cam"), (refused.Kind, refused.CameraId));
            Assert.Equal(Secrets.RedactUrl(wrongUrl), refused.RedactedUrl);
            Assert.EndsWith(Secrets.RedactUrl(wrongUrl) + ": Server returned 401 Unauthorized (authorization failed)", refused.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain("not-the-password", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(secrets["token"], refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            await stopScanning.CancelAsync();
            await scanning;
            await stopStreaming.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => streaming);
            Environment.SetEnvironmentVariable(EnvironmentSecretName, null);
        }

        output.WriteLine($"{scans} scans; ffmpeg children seen talking to the camera:");
        foreach (var c in seen.Values) output.WriteLine($"  {c.Pid} {Role(c)}: {c.CommandLine}");
        foreach (var f in findings.Distinct()) output.WriteLine($"FOUND {f}");
        Assert.Empty(findings);
        // The scans did see the children they were meant to check: one of each kind, each reading its URL from stdin.
        Assert.Equal(["probe", "snapshot", "stream"], seen.Values.Select(Role).Distinct().Order());
        Assert.All(seen.Values, c => Assert.Contains(" -i pipe:0 ", c.CommandLine, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheFileGopProbe_GetsTheClearedEnvironmentToo()
    {
        var secret = "env-" + Guid.NewGuid().ToString("N")[..12];
        var dir = TestAssets.TempDir("env-ffprobe");
        var seenEnvironment = Path.Combine(dir, "environment");
        // A stand-in ffprobe that writes down its environment and reports keyframes 0.6 s apart.
        var ffprobe = Path.Combine(dir, "ffprobe");
        File.WriteAllText(ffprobe, $"#!/bin/sh\nenv > '{seenEnvironment}'\necho 0.000000,K_\necho 0.600000,K_\n");
        File.SetUnixFileMode(ffprobe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        Environment.SetEnvironmentVariable(EnvironmentSecretName, secret);
        TimeSpan? gop;
        try
        {
            gop = await FileGopProbe.WidestGapAsync(TestAssets.Media("parking-lot-cctv-640x480.mp4"), Path.Combine(dir, "ffmpeg"), 600,
                CancellationToken.None);
        }
        finally
        {
            Environment.SetEnvironmentVariable(EnvironmentSecretName, null);
        }
        Assert.Equal(TimeSpan.FromSeconds(0.6), gop); // the stand-in did run
        var environment = await File.ReadAllTextAsync(seenEnvironment);
        Assert.DoesNotContain(secret, environment, StringComparison.Ordinal);
        Assert.Contains("LC_ALL=C\n", environment, StringComparison.Ordinal);
    }

    private static string Role(FfmpegChild c) =>
        c.CommandLine.Contains(" framecrc ", StringComparison.Ordinal) ? "probe"
        : c.CommandLine.Contains(" -frames:v 1 ", StringComparison.Ordinal) ? "snapshot"
        : "stream";
}
