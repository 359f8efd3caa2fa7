using System.CommandLine;
using CitySight.Bench;

namespace CitySight.Cli.Bench;

/// <summary>
/// `citysight bench-feed`: cases through the gRPC case feed to N concurrent consumers (issue 7): throughput, commit-to-receipt
/// latency, lost and duplicated cases, against the store's commit rate alone measured in the same run.
/// Parses and checks the arguments; <see cref="FeedBenchRunner"/> runs and reports.
/// </summary>
internal static class FeedBenchCommand
{
    public static Command Create()
    {
        var cases = new Option<int>("--cases") { Description = "Cases committed per phase", DefaultValueFactory = _ => 10_000 };
        var consumers = new Option<int>("--consumers") { Description = "Concurrent consumers, each with its own name and connection", DefaultValueFactory = _ => 4 };
        var ackEvery = new Option<int>("--ack-every") { Description = "Each consumer acks (Ack rpc) after this many events", DefaultValueFactory = _ => 100 };
        var evidence = new Option<bool>("--include-evidence") { Description = "Subscribe with include_evidence (every event carries its JPEG)" };
        var rate = new Option<double>("--rate") { Description = "Cases committed per second; 0 = as fast as the store takes them", DefaultValueFactory = _ => 0 };
        var evidenceKb = new Option<int>("--evidence-kb") { Description = "Size of each case's JPEG-like evidence, KiB", DefaultValueFactory = _ => 20 };
        var slow = new Option<bool>("--slow-consumer")
        {
            Description = "Add a phase with one extra gRPC consumer (with evidence) that takes --slow-delay over every event; compare the fast consumers' p99 and the process memory",
        };
        var slowDelay = new Option<double>("--slow-delay") { Description = "The slow consumer's time per event, ms", DefaultValueFactory = _ => 20 };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait, after the last commit, for every consumer to have every case", DefaultValueFactory = _ => 120 };
        var data = new Option<string?>("--data") { Description = "Folder for the bench's stores (default: a fresh folder under the temp folder, removed afterwards)" };
        var keep = new Option<bool>("--keep") { Description = "Keep the temp stores" };
        var noReplay = new Option<bool>("--no-replay") { Description = "Skip the replay phases (N consumers reading the full store from sequence 0)" };
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file" };
        var receipts = new Option<bool>("--json-receipts") { Description = "Put every commit and every receipt (case id, sequence) in the JSON (for small runs)" };
        var rounds = new Option<int>("--rounds")
        {
            Description = "Run the live phases (commit only, in-process, gRPC, [slow]) this many times in alternating order, --cases each time, so that " +
                          "load from other processes hits them alike; figures are the median (and range) over the rounds, ratios per round",
            DefaultValueFactory = _ => 3,
        };
        var idle = new Option<int>("--idle-subscribers")
        {
            Description = "Instead of the phases above: case-commit latency p50/p99 at --rate (default 50/s) with no subscriber, then with this many " +
                          "idle gRPC subscribers (loopback, HTTP/2, one channel per 100); the p99 ratio, memory per subscriber, lost and repeated events",
        };
        var ackFlood = new Option<bool>("--ack-flood") { Description = "With --idle-subscribers: meanwhile, --ack-flood-clients clients ack as fast as they are answered" };
        var floodClients = new Option<int>("--ack-flood-clients") { Description = "Clients in the ack flood, 32 acks in flight each", DefaultValueFactory = _ => 4 };
        var clientNice = new Option<int>("--client-nice")
        {
            Description = "Niceness of the idle subscribers' process (0-19): 19 by default, as consumers on other machines would not take " +
                          "the server's cores; 0 where the run checks correctness on a busy machine (a starved client counts what it had not yet received as lost)",
            DefaultValueFactory = _ => 19,
        };
        // The bench's own child process for the idle subscribers (started by bench-feed --idle-subscribers, not by people).
        var idleClient = new Option<string?>("--idle-client") { Description = "internal: run idle subscribers to this address", Hidden = true };
        var idleAfter = new Option<long>("--idle-after") { Description = "internal: the idle subscribers' start sequence", Hidden = true };
        var cmd = new Command("bench-feed",
            "Cases through the gRPC case feed to N concurrent consumers: throughput, commit-to-receipt latency p50/p95/p99, lost and duplicated " +
            "cases, against the store's commit rate with no consumer and against the in-process follower (no gRPC), in the same run.")
        {
            cases, consumers, ackEvery, evidence, rate, evidenceKb, slow, slowDelay, timeout, data, keep, noReplay, json, receipts, rounds,
            idle, ackFlood, floodClients, clientNice, idleClient, idleAfter,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            try
            {
                if (parse.GetValue(idleClient) is { } address)
                    return await FeedBenchRunner.RunIdleClientAsync(address, parse.GetValue(idle), parse.GetValue(idleAfter), ct);
                var o = new FeedBenchOptions
                {
                    Cases = parse.GetValue(cases),
                    Consumers = parse.GetValue(consumers),
                    AckEvery = parse.GetValue(ackEvery),
                    IncludeEvidence = parse.GetValue(evidence),
                    Rate = parse.GetValue(rate),
                    EvidenceBytes = parse.GetValue(evidenceKb) * 1024,
                    SlowConsumer = parse.GetValue(slow),
                    SlowDelay = TimeSpan.FromMilliseconds(parse.GetValue(slowDelay)),
                    Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                    DataFolder = parse.GetValue(data),
                    Keep = parse.GetValue(keep),
                    Replay = !parse.GetValue(noReplay),
                    Receipts = parse.GetValue(receipts),
                    Rounds = parse.GetValue(rounds),
                    IdleSubscribers = parse.GetValue(idle),
                    AckFlood = parse.GetValue(ackFlood),
                    AckFloodClients = parse.GetValue(floodClients),
                    ClientNice = parse.GetValue(clientNice),
                    ClientCommand = SelfCommand(),
                };
                Validate(o);
                return await FeedBenchRunner.RunAsync(o, parse.GetValue(json), ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Console.Error.WriteLine("bench-feed: cancelled");
                return 130;
            }
            catch (BenchException ex)
            {
                Console.Error.WriteLine($"bench-feed: {ex.Message}");
                return 2;
            }
            catch (Exception ex)
            {
                Console.Error.WriteLine($"bench-feed: failed: {ex.GetType().Name}: {ex.Message}");
                return 1;
            }
        });
        return cmd;
    }

    /// <summary>How to start this program again: the executable, and under `dotnet` the .dll it runs.</summary>
    private static string[]? SelfCommand()
    {
        if (Environment.ProcessPath is not { } exe) return null;
        return Path.GetFileNameWithoutExtension(exe) == "dotnet" ? [exe, Environment.GetCommandLineArgs()[0]] : [exe];
    }

    private static void Validate(FeedBenchOptions o)
    {
        if (o.Cases < 1) throw new BenchException($"--cases {o.Cases}: at least 1");
        if (o.Consumers < 1) throw new BenchException($"--consumers {o.Consumers}: at least 1");
        if (o.AckEvery < 1) throw new BenchException($"--ack-every {o.AckEvery}: at least 1");
        if (o.Rate < 0 || double.IsNaN(o.Rate)) throw new BenchException($"--rate {o.Rate}: 0 (as fast as possible) or more");
        if (o.EvidenceBytes < 0) throw new BenchException("--evidence-kb: 0 or more");
        if (o.SlowDelay < TimeSpan.Zero) throw new BenchException("--slow-delay: 0 or more");
        if (o.Timeout <= TimeSpan.Zero) throw new BenchException("--timeout: more than 0");
        if (o.Rounds < 1) throw new BenchException($"--rounds {o.Rounds}: at least 1");
        if (o.IdleSubscribers is < 0 or > 100_000) throw new BenchException($"--idle-subscribers {o.IdleSubscribers}: 0 (off) to 100000");
        if (o.AckFlood && o.IdleSubscribers == 0) throw new BenchException("--ack-flood: only with --idle-subscribers");
        if (o.AckFloodClients is < 1 or > 64) throw new BenchException($"--ack-flood-clients {o.AckFloodClients}: 1 to 64");
        if (o.ClientNice is < 0 or > 19) throw new BenchException($"--client-nice {o.ClientNice}: 0 to 19");
    }
}
