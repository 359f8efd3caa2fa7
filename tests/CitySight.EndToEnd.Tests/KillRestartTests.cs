using System.Collections.Concurrent;
using CitySight.Cases;
using CitySight.Cases.Sqlite;
using CitySight.Delivery.V1;
using CitySight.Tests;
using Grpc.Core;
using Grpc.Net.Client;

namespace CitySight.EndToEnd.Tests;

/// <summary>
/// The delivery promise under the worst stop there is: `citysight run` killed with SIGKILL while a consumer streams and
/// acks, then started again on the same data. The consumer resumes from its acknowledged cursor and, in the end, has
/// received every event the store holds up to where it stopped reading — none missing; repeats are allowed and counted.
/// Real process, real model on the real parking-lot clip, real SQLite, real Kestrel and gRPC client.
/// </summary>
public sealed class KillRestartTests
{
    private const string Consumer = "dispatch-k9";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_consumer_receives_every_case_across_a_kill_9_and_restart()
    {
        var dir = TestAssets.TempDir("kill9");
        var grpcPort = TestPorts.Free();
        var configPath = WriteConfig(dir, grpcPort, TestPorts.Free());
        var received = new ConcurrentQueue<(ulong Sequence, CaseEventKind Kind, string Id)>();
        using var stop = new CancellationTokenSource();
        var consumer = ConsumeAsync($"http://127.0.0.1:{grpcPort}", received, stop.Token);

        var first = ServiceProcess.Start(configPath);
        ulong killedAfter;
        try
        {
            await Wait.UntilAsync(() => Opened(received) >= 4 || first.HasExited, Limit, "4 cases from the first run");
            Assert.False(first.HasExited, $"the service stopped by itself:\n{first.Log}");
        }
        finally
        {
            first.Kill9();
            killedAfter = received.IsEmpty ? 0 : received.Max(e => e.Sequence);
        }

        var second = ServiceProcess.Start(configPath);
        try
        {
            await Wait.UntilAsync(() => received.Count(e => e.Kind == CaseEventKind.Opened && e.Sequence > killedAfter) >= 3 || second.HasExited,
                Limit, "3 new cases after the restart");
            Assert.False(second.HasExited, $"the restarted service stopped by itself:\n{second.Log}");
        }
        finally
        {
            second.Kill9();
            await stop.CancelAsync();
            await consumer;
        }

        // Everything committed up to the last event the consumer saw must have reached it.
        var last = received.Max(e => e.Sequence);
        using var store = new SqliteCaseStore(Path.Combine(dir, "data"));
        var committed = new List<CaseFeedEvent>();
        using (var read = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            await foreach (var e in store.EventsAsync(0, includeEvidence: false, read.Token))
            {
                if ((ulong)e.Sequence > last) break;
                committed.Add(e);
                if ((ulong)e.Sequence == last) break;
            }
        var got = received.GroupBy(e => e.Sequence).ToDictionary(g => g.Key, g => g.Count());
        var missing = committed.Where(e => !got.ContainsKey((ulong)e.Sequence)).Select(e => $"{e.Sequence} {e.Kind} {e.Case.Id}").ToList();
        Assert.True(missing.Count == 0, $"missing after kill -9 and restart: {string.Join(", ", missing)}");
        Assert.Equal(committed.Select(e => e.Case.Id), committed.Select(e => received.First(r => r.Sequence == (ulong)e.Sequence).Id));
        Assert.True(committed.Count(e => e.Kind == CaseFeedKind.Opened) >= 7, $"only {committed.Count} events committed");
        Assert.True(await store.CursorAsync(Consumer) >= (long)killedAfter, "the consumer's acks were not kept");
        // Repeats are allowed (at-least-once) and are only those sent again after the restart.
        Assert.All(got.Where(p => p.Value > 1), p => Assert.True(p.Key <= killedAfter, $"event {p.Key} repeated {p.Value} times"));
    }

    private static int Opened(ConcurrentQueue<(ulong Sequence, CaseEventKind Kind, string Id)> r) => r.Count(e => e.Kind == CaseEventKind.Opened);

    /// <summary>Subscribes with resume, acks each event once handled, and comes back after every failure until stopped.</summary>
    private static async Task ConsumeAsync(string address, ConcurrentQueue<(ulong, CaseEventKind, string)> received, CancellationToken stop)
    {
        using var channel = GrpcChannel.ForAddress(address);
        var client = new CaseFeed.CaseFeedClient(channel);
        using var retry = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var call = client.Subscribe(new SubscribeRequest { Consumer = Consumer, Resume = true }, cancellationToken: stop);
                await foreach (var e in call.ResponseStream.ReadAllAsync(stop))
                {
                    received.Enqueue((e.Sequence, e.Kind, e.Case.Id));
                    await client.AckAsync(new AckRequest { Consumer = Consumer, Sequence = e.Sequence }, cancellationToken: stop);
                }
            }
            catch (RpcException) when (!stop.IsCancellationRequested) { }   // the service went away: come back
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (RpcException) { return; }
            try { await retry.WaitForNextTickAsync(stop); } catch (OperationCanceledException) { return; }
        }
    }

    private static string WriteConfig(string dir, int grpcPort, int httpPort)
    {
        var media = Path.Combine(TestAssets.Root, "media", "parking-lot-cctv-640x480.mp4");
        Directory.CreateDirectory(Path.Combine(dir, "cameras"));
        // Every car the time-lapse shows is a case at once, and a place is free again a second after it empties:
        // a steady stream of cases, opened and closed, to deliver across the kill.
        File.WriteAllText(Path.Combine(dir, "citysight.yaml"), $"""
            service:
              grpc_port: {grpcPort}
              http_port: {httpPort}
              data_dir: data
            models:
              manifest: {Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml")}
              search_paths: [{Path.Combine(TestAssets.Root, "models")}]
            rules:
              confirm_samples: 1
              dedup_window: 1s
              case_types:
                illegal_parking: {"{"}min_dwell: 0s, stationary: false{"}"}
            dedup:
              window: 1s
              cooldown: 0s
            cameras: cameras
            """);
        File.WriteAllText(Path.Combine(dir, "cameras", "lot.yaml"), $"""
            group: {"{"}id: lot, name: Car park{"}"}
            cameras:
              - id: lot-1
                name: Car park, site road
                url: {media}
                latitude: 31.2
                longitude: 121.4
                sample_interval: 0.25s
                detectors: [illegal_parking]
                real_time: true
                loop: true
            """);
        return Path.Combine(dir, "citysight.yaml");
    }
}
