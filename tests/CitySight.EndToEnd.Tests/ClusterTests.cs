using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using CitySight.Admin.V1;
using CitySight.CameraSimulator;
using CitySight.Delivery.V1;
using CitySight.Tests;
using Grpc.Core;
using Grpc.Net.Client;

namespace CitySight.EndToEnd.Tests;

/// <summary>
/// Issue 16 as a user runs it: three `citysight run` nodes (real processes) on one real PostgreSQL, 30 patrolled cameras
/// of one camera file, all watching the same car park through the same ground mapping. The nodes share the cameras out;
/// one is killed with SIGKILL and the two others run its cameras within two leases; a consumer on another node receives
/// every event the store holds, and one that moves from node to node mid-stream misses nothing; and 30 cameras over three
/// nodes seeing the same cars raise one case per car, not one per camera or per node.
/// </summary>
public sealed class ClusterTests
{
    private const int Cameras = 30;
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(150);
    private const string PgVariable = "CITYSIGHT_TEST_PG";

    [Fact]
    public async Task Three_nodes_share_the_cameras_survive_a_kill_9_lose_no_event_and_raise_one_case_per_place()
    {
        await using var sim = await RtspSimulator.StartAsync(new SimulatorOptions
        {
            Port = 0,
            Mounts = [new("lot", TestAssets.Media("parking-lot-cctv-640x480.mp4"))],
            CacheDir = Path.Combine(Path.GetTempPath(), "citysight-tests", "simulator-cache"),
        });
        var dir = TestAssets.TempDir("cluster");
        var env = new Dictionary<string, string> { [PgVariable] = PostgresServer.NewDatabase("cluster") };
        WriteCameras(dir, sim.UrlFor("lot"));
        var nodes = Enumerable.Range(1, 3).Select(n => new Node($"node-{n}", TestPorts.Free(), TestPorts.Free())).ToList();
        foreach (var n in nodes) n.Config = WriteConfig(dir, n);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var stop = new CancellationTokenSource();
        var started = new List<ServiceProcess>();
        try
        {
            foreach (var n in nodes) started.Add(n.Process = ServiceProcess.Start(n.Config, env));

            // Shared out: every camera on exactly one node, 10 each.
            await Wait.UntilAsync(async () => Balanced(await PlacementAsync(http, nodes), nodes.Count), Limit,
                "30 cameras over 3 nodes, 10 each, none on two" + Logs(nodes));

            // A dispatch consumer on node 2, and one that moves between nodes 2 and 3 as it reads.
            var dispatch = new ConcurrentQueue<Event>();
            var reading = ConsumeAsync(nodes[1], "dispatch-c", dispatch, stop.Token);
            await Wait.UntilAsync(() => dispatch.Count(e => e.Kind == CaseEventKind.Opened) >= 2, Limit, "2 cases on the feed" + Logs(nodes));

            var killed = nodes[0];
            killed.Process!.Kill9();
            var clock = Stopwatch.StartNew();
            var alive = nodes.Skip(1).ToList();
            await Wait.UntilAsync(async () => Balanced(await PlacementAsync(http, alive), alive.Count), Limit,
                "the killed node's cameras on the two others" + Logs(alive));
            var takeover = clock.Elapsed;
            Console.WriteLine($"cluster: node-1 killed; its cameras ran on the others after {takeover.TotalSeconds:F1} s (lease {Lease.TotalSeconds:F0} s)");
            Assert.True(takeover <= Lease * 2 + TimeSpan.FromSeconds(1),
                $"takeover took {takeover.TotalSeconds:F1} s, more than two leases ({(Lease * 2).TotalSeconds:F0} s) and the second /healthz poll");

            // Later sightings are events too (once a minute per case): four events for the consumer that moves.
            await Wait.UntilAsync(() => dispatch.Count >= 4, Limit, "4 events on the feed" + Logs(alive));
            var moving = await MoveBetweenNodesAsync(alive, "dispatch-m", stop.Token);

            // Admin from any node: node-2 lists every camera with the node that runs it (another's as ELSEWHERE).
            using var adminChannel = GrpcChannel.ForAddress(alive[0].Grpc);
            var admin = new CameraAdmin.CameraAdminClient(adminChannel);
            await Wait.UntilAsync(async () =>
            {
                var where = await PlacementAsync(http, alive);
                var infos = (await admin.ListCamerasAsync(new ListCamerasRequest())).Groups.SelectMany(g => g.Cameras).ToList();
                return infos.Count == Cameras && infos.All(c =>
                    where.TryGetValue(c.Node, out var runs) && runs.Contains(c.Id)
                    && (c.Node == alive[0].Id) == (c.State != CitySight.Admin.V1.CameraState.Elsewhere));
            }, Limit, "node-2's admin list naming each camera's node");

            // A reload on node-2 is a reload on node-3: a camera disabled in the shared file stops wherever it ran.
            WriteCameras(dir, sim.UrlFor("lot"), disabled: "lot-30");
            Assert.True((await admin.ReloadConfigAsync(new ReloadConfigRequest())).Ok);
            using var otherChannel = GrpcChannel.ForAddress(alive[1].Grpc);
            var other = new CameraAdmin.CameraAdminClient(otherChannel);
            await Wait.UntilAsync(async () =>
            {
                var where = await PlacementAsync(http, alive);
                var onOther = await other.GetCameraAsync(new GetCameraRequest { CameraId = "lot-30" });
                return !onOther.Enabled && where.Values.Sum(c => c.Count) == Cameras - 1 && where.Values.All(c => !c.Contains("lot-30"));
            }, Limit, "lot-30 disabled on node-3 too, and run by no node" + Logs(alive));

            await stop.CancelAsync();
            await reading;

            // What the cluster committed, read from PostgreSQL itself, up to the last event the dispatch consumer saw.
            var last = dispatch.Max(e => e.Sequence);
            var committed = await CommittedAsync(env[PgVariable], last);
            var got = dispatch.Select(e => e.Sequence).ToHashSet();
            var missing = committed.Where(e => !got.Contains(e.Sequence)).Select(e => $"{e.Sequence} {e.Kind} {e.CaseId}").ToList();
            Assert.True(missing.Count == 0, "missing on node-2's feed: " + string.Join(", ", missing));
            var movedMissing = committed.Where(e => e.Sequence <= moving.Last && !moving.Sequences.Contains(e.Sequence)).Select(e => e.Sequence).ToList();
            Assert.True(movedMissing.Count == 0, "the consumer moving between nodes missed: " + string.Join(", ", movedMissing));

            // One case per car: no two cases of a type opened within the same-place radius (15 m) of each other.
            var opened = committed.Where(e => e.Kind == "Opened").ToList();
            var twice = (from a in opened
                         from b in opened
                         where string.CompareOrdinal(a.CaseId, b.CaseId) < 0 && a.CaseType == b.CaseType && Metres(a, b) < 15
                         select $"{a.CaseId} ({a.CameraId}) and {b.CaseId} ({b.CameraId}) {Metres(a, b):F1} m apart").ToList();
            Assert.True(twice.Count == 0, $"{opened.Count} cases, some twice for one place: " + string.Join("; ", twice));
            Console.WriteLine($"cluster: {opened.Count} case(s) opened by {opened.Select(e => e.CameraId).Distinct().Count()} camera(s) of " +
                              $"{Cameras} watching the same cars from 3 nodes; {committed.Count} events, none missing on node-2's feed or across the move");
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var p in started) p.Kill9();
        }
    }

    private sealed class Node(string id, int grpcPort, int httpPort)
    {
        public string Id { get; } = id;
        public int GrpcPort { get; } = grpcPort;
        public int HttpPort { get; } = httpPort;
        public string Config { get; set; } = "";
        public ServiceProcess? Process { get; set; }
        public string Grpc => $"http://127.0.0.1:{GrpcPort}";
    }

    private sealed record Event(long Sequence, CaseEventKind Kind, string CaseId);

    private sealed record Stored(long Sequence, string Kind, string CaseId, string CaseType, string CameraId, double Latitude, double Longitude);

    private static string Logs(IEnumerable<Node> nodes) =>
        string.Concat(nodes.Select(n => $"\n--- {n.Id}:\n{Tail(n.Process?.Log ?? "", 3000)}"));

    private static string Tail(string s, int n) => s.Length <= n ? s : s[^n..];

    /// <summary>Each live node's /healthz: its id and the cameras it runs now (streamed or patrolled).</summary>
    private static async Task<Dictionary<string, List<string>>> PlacementAsync(HttpClient http, IEnumerable<Node> nodes)
    {
        var placement = new Dictionary<string, List<string>>();
        foreach (var n in nodes)
        {
            try
            {
                using var doc = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{n.HttpPort}/healthz"));
                var root = doc.RootElement;
                Assert.Equal(n.Id, root.GetProperty("node").GetString());
                var cams = root.GetProperty("cameras").EnumerateArray().Select(c => c.GetProperty("id").GetString()!)
                    .Concat(root.GetProperty("patrol").GetProperty("cameras").EnumerateArray().Select(c => c.GetProperty("id").GetString()!))
                    .ToList();
                placement[n.Id] = cams;
            }
            catch (HttpRequestException)
            {
                placement[n.Id] = []; // not listening yet
            }
            catch (TaskCanceledException)
            {
                placement[n.Id] = [];
            }
        }
        return placement;
    }

    /// <summary>All cameras placed, none twice, and the count per node within one of an even share.</summary>
    private static bool Balanced(Dictionary<string, List<string>> placement, int nodes)
    {
        var all = placement.Values.SelectMany(c => c).ToList();
        if (all.Count != Cameras || all.Distinct().Count() != Cameras) return false;
        return placement.Values.All(c => Math.Abs(c.Count - Cameras / (double)nodes) <= 1);
    }

    /// <summary>Subscribes with resume on one node, acks each event, comes back after every failure until stopped.</summary>
    private static async Task ConsumeAsync(Node node, string consumer, ConcurrentQueue<Event> received, CancellationToken stop)
    {
        using var channel = GrpcChannel.ForAddress(node.Grpc);
        var client = new CaseFeed.CaseFeedClient(channel);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var call = client.Subscribe(new SubscribeRequest { Consumer = consumer, Resume = true }, cancellationToken: stop);
                await foreach (var e in call.ResponseStream.ReadAllAsync(stop))
                {
                    received.Enqueue(new Event((long)e.Sequence, e.Kind, e.Case.Id));
                    await client.AckAsync(new AckRequest { Consumer = consumer, Sequence = e.Sequence }, cancellationToken: stop);
                }
            }
            catch (RpcException) when (!stop.IsCancellationRequested) { }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (RpcException) { return; }
            try { await Task.Delay(200, stop); } catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>
    /// A consumer that reads and acks an event on one node, drops the stream, and resumes on the other, four times: every
    /// sequence up to the last it read, across both nodes.
    /// </summary>
    private static async Task<(HashSet<long> Sequences, long Last)> MoveBetweenNodesAsync(List<Node> alive, string consumer, CancellationToken ct)
    {
        var seen = new HashSet<long>();
        long last = 0;
        foreach (var node in alive.Concat(alive))
        {
            using var channel = GrpcChannel.ForAddress(node.Grpc);
            var client = new CaseFeed.CaseFeedClient(channel);
            using var leg = CancellationTokenSource.CreateLinkedTokenSource(ct);
            leg.CancelAfter(TimeSpan.FromSeconds(60));
            using var call = client.Subscribe(new SubscribeRequest { Consumer = consumer, Resume = true }, cancellationToken: leg.Token);
            var taken = 0;
            await foreach (var e in call.ResponseStream.ReadAllAsync(leg.Token))
            {
                var seq = (long)e.Sequence;
                Assert.True(seq > last || seen.Contains(seq), $"{consumer} on {node.Id}: sequence {seq} after {last} skipped ahead of its cursor");
                seen.Add(seq);
                last = Math.Max(last, seq);
                await client.AckAsync(new AckRequest { Consumer = consumer, Sequence = e.Sequence }, cancellationToken: leg.Token);
                if (++taken == 1) break; // then move to the other node
            }
        }
        // Resumed from its acked cursor each time: no hole below the last sequence it read.
        var holes = Enumerable.Range(1, (int)last).Select(i => (long)i).Where(s => !seen.Contains(s)).ToList();
        Assert.True(holes.Count == 0, $"{consumer} moving between nodes missed {string.Join(", ", holes)}");
        return (seen, last);
    }

    private static async Task<List<Stored>> CommittedAsync(string connectionString, long upTo)
    {
        await using var store = new CitySight.Cases.Postgres.PostgresCaseStore(connectionString, "reader");
        var events = new List<Stored>();
        using var read = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (var e in store.EventsAsync(0, includeEvidence: false, read.Token))
        {
            if (e.Sequence > upTo) break;
            events.Add(new Stored(e.Sequence, e.Kind.ToString(), e.Case.Id, e.Case.CaseType, e.Case.CameraId, e.Case.Latitude, e.Case.Longitude));
            if (e.Sequence == upTo) break;
        }
        return events;
    }

    private static double Metres(Stored a, Stored b)
    {
        const double R = 6_371_000;
        var dLat = (b.Latitude - a.Latitude) * Math.PI / 180;
        var dLon = (b.Longitude - a.Longitude) * Math.PI / 180 * Math.Cos(a.Latitude * Math.PI / 180);
        return R * Math.Sqrt(dLat * dLat + dLon * dLon);
    }

    private static void WriteCameras(string dir, string url, string? disabled = null)
    {
        Directory.CreateDirectory(Path.Combine(dir, "cameras"));
        // One camera file for every node; each camera sees the car park through the same ground mapping, so a car is
        // one place on the ground whichever camera (and node) sees it.
        var cameras = string.Concat(Enumerable.Range(1, Cameras).Select(i => $"""

              - id: lot-{i:D2}
                name: Car park {i}
                url: {url}
                enabled: {(disabled == $"lot-{i:D2}" ? "false" : "true")}
                latitude: 31.2304
                longitude: 121.4737
                ground:
                  - {"{"} image: [0.05, 0.95], lat: 31.23015, lon: 121.47355 {"}"}
                  - {"{"} image: [0.95, 0.95], lat: 31.23015, lon: 121.47385 {"}"}
                  - {"{"} image: [0.95, 0.30], lat: 31.23060, lon: 121.47390 {"}"}
                  - {"{"} image: [0.05, 0.30], lat: 31.23060, lon: 121.47350 {"}"}
            """));
        File.WriteAllText(Path.Combine(dir, "cameras", "lot.yaml"), $"""
            group:
              id: lot
              name: Car park
              mode: patrol
              defaults:
                sample_interval: 6s
                detectors: [illegal_parking]
            cameras:{cameras}
            """);
    }

    private static string WriteConfig(string dir, Node n)
    {
        var path = Path.Combine(dir, $"{n.Id}.yaml");
        File.WriteAllText(path, $"""
            service:
              grpc_port: {n.GrpcPort}
              http_port: {n.HttpPort}
              data_dir: data-{n.Id}
            models:
              manifest: {Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml")}
              search_paths: [{Path.Combine(TestAssets.Root, "models")}]
              detector: yolox-nano-coco
            ingest:
              patrol_concurrency: 2
              snapshot_timeout: 10s
            rules:
              confirm_samples: 1
              case_types:
                illegal_parking: {"{"}min_dwell: 0s, stationary: false{"}"}
            dedup:
              window: 10m
            store:
              backend: postgres
              postgres:
                connection_string_env: {PgVariable}
            cluster:
              node_id: {n.Id}
              lease: {Lease.TotalSeconds:F0}s
            cameras: cameras
            """);
        return path;
    }
}
