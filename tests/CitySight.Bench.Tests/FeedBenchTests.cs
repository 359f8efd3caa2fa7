using System.Text.Json;
using CitySight.Tests;

namespace CitySight.Bench.Tests;

/// <summary>
/// `citysight bench-feed` as a user runs it (a real process, stdout/stderr redirected as in CI), kept small: a few hundred
/// cases to two consumers. The test checks the receipts itself from the JSON, not only the bench's own verdict.
/// </summary>
public class FeedBenchTests
{
    private const int Cases = 300;
    private const int Consumers = 2;
    private const int Rounds = 2;

    [Fact]
    public async Task Bench_feed_delivers_every_committed_case_to_every_consumer_in_sequence_order_in_every_round_and_writes_the_figures()
    {
        var dir = TestAssets.TempDir("bench-feed");
        var json = Path.Combine(dir, "feed.json");

        var (code, stdout, stderr) = await CitysightProcess.RunAsync(TimeSpan.FromSeconds(180), "bench-feed",
            "--cases", $"{Cases}", "--consumers", $"{Consumers}", "--ack-every", "50", "--slow-consumer", "--slow-delay", "5",
            "--rounds", $"{Rounds}", "--data", Path.Combine(dir, "stores"), "--json", json, "--json-receipts");

        Assert.True(code == 0, stderr);
        var root = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal(Cases, root.GetProperty("cases").GetInt32());
        Assert.Equal(Consumers, root.GetProperty("consumers").GetInt32());
        Assert.Equal(0, root.GetProperty("lost").GetInt32());
        Assert.Equal(0, root.GetProperty("duplicates").GetInt32());
        Assert.True(root.GetProperty("commit_only_per_second").GetDouble() > 0);
        Assert.True(root.GetProperty("received_per_second_per_consumer").GetDouble() > 0);
        Assert.True(root.GetProperty("ratio").GetDouble() > 0);
        Assert.True(root.GetProperty("cpu_cores").GetInt32() > 0);
        Assert.StartsWith("CPU: ", root.GetProperty("device").GetString());
        Assert.True(root.GetProperty("process_peak_rss_mib").GetDouble() > 0);
        AssertLatency(root.GetProperty("latency_ms"));

        AssertRounds(root);

        var phases = root.GetProperty("phases").EnumerateArray().ToList();
        Assert.Equal(Rounds, phases.Count(p => p.GetProperty("transport").GetString() == "none")); // commit-only, once per round
        Assert.Equal(Rounds * 4, phases.Count(p => p.GetProperty("live").GetBoolean())); // commit-only, in-process, gRPC, gRPC + slow
        Assert.Equal(2, phases.Count(p => !p.GetProperty("live").GetBoolean())); // the replays, once
        var live = phases.Where(p => p.GetProperty("transport").GetString() != "none").ToList();
        Assert.Contains(live, p => p.GetProperty("transport").GetString() == "grpc" && p.GetProperty("live").GetBoolean()
                                   && p.GetProperty("slow_consumers").GetInt32() == 0);
        Assert.Contains(live, p => p.GetProperty("transport").GetString() == "in-process");
        Assert.Contains(live, p => p.GetProperty("slow_consumers").GetInt32() == 1);
        foreach (var phase in live)
        {
            var name = phase.GetProperty("name").GetString();
            Assert.True(phase.GetProperty("lost").GetInt32() == 0, $"{name} lost cases");
            var committed = phase.GetProperty("committed").EnumerateArray()
                .ToDictionary(c => c.GetProperty("id").GetString()!, c => c.GetProperty("sequence").GetInt64());
            Assert.Equal(Cases, committed.Count);
            Assert.All(committed.Values, s => Assert.True(s > 0));
            if (phase.GetProperty("live").GetBoolean()) AssertLatency(phase.GetProperty("latency_ms"));

            var consumers = phase.GetProperty("consumer_results").EnumerateArray().ToList();
            Assert.Equal(Consumers, consumers.Count(c => !c.GetProperty("slow").GetBoolean()));
            foreach (var c in consumers)
            {
                var who = $"{name} / {c.GetProperty("name").GetString()}";
                Assert.True(c.GetProperty("error").ValueKind == JsonValueKind.Null, $"{who}: {c.GetProperty("error")}");
                var ids = c.GetProperty("case_ids").EnumerateArray().Select(e => e.GetString()!).ToList();
                var sequences = c.GetProperty("sequences").EnumerateArray().Select(e => e.GetInt64()).ToList();
                Assert.Equal(ids.Count, sequences.Count);
                // Strictly increasing per consumer: in order and no duplicates.
                for (var i = 1; i < sequences.Count; i++)
                    Assert.True(sequences[i] > sequences[i - 1], $"{who}: sequence {sequences[i]} after {sequences[i - 1]}");
                // Each receipt is the case committed with that sequence.
                for (var i = 0; i < ids.Count; i++)
                    Assert.True(committed.TryGetValue(ids[i], out var s) && s == sequences[i], $"{who}: {ids[i]} arrived as {sequences[i]}");
                if (c.GetProperty("slow").GetBoolean()) continue; // the slow one is not waited for
                Assert.Equal(committed.Keys.Order(), ids.Order());
                Assert.Equal(0, c.GetProperty("duplicates").GetInt32());
                Assert.Equal(0, c.GetProperty("missing").GetInt32());
                // Every consumer acked the last sequence it received.
                Assert.Equal(sequences[^1], c.GetProperty("acked_cursor").GetInt64());
                if (phase.GetProperty("live").GetBoolean()) AssertLatency(c.GetProperty("latency_ms"));
            }
        }

        // The table on stdout, with the baseline and the ratio.
        Assert.Contains("commit only", stdout);
        Assert.Contains("gRPC ×2", stdout);
        Assert.Contains("ratio", stdout);
        Assert.Contains("slow consumer", stdout);
        Assert.Contains("round 2:", stdout);
    }

    /// <summary>
    /// Every live phase ran once per round, round 2 in the reverse order of round 1; each round's ratios are against its own
    /// commit-only rate; the summaries are the medians of the rounds, counts summed.
    /// </summary>
    private static void AssertRounds(JsonElement root)
    {
        string[] live = ["commit only", $"in-process ×{Consumers}", $"gRPC ×{Consumers}", $"gRPC ×{Consumers} + 1 slow"];
        Assert.Equal(Rounds, root.GetProperty("round_count").GetInt32());
        var rounds = root.GetProperty("rounds").EnumerateArray().ToList();
        Assert.Equal(Rounds, rounds.Count);
        var orders = rounds.Select(r => r.GetProperty("order").EnumerateArray().Select(e => e.GetString()!).ToList()).ToList();
        Assert.Equal(live, orders[0]);
        Assert.Equal(Enumerable.Reverse(live), orders[1]);
        var ratios = new Dictionary<string, List<double>>();
        foreach (var round in rounds)
        {
            var commitOnly = round.GetProperty("commit_only_per_second").GetDouble();
            Assert.True(commitOnly > 0);
            var phases = round.GetProperty("phases").EnumerateArray().ToList();
            Assert.Equal(live.Order(), phases.Select(p => p.GetProperty("name").GetString()!).Order()); // each live phase once per round
            foreach (var p in phases.Where(p => p.GetProperty("transport").GetString() != "none"))
            {
                var name = p.GetProperty("name").GetString()!;
                Assert.Equal(0, p.GetProperty("lost").GetInt32());
                var ratio = p.GetProperty("ratio_to_commit_only").GetDouble();
                Assert.InRange(Math.Abs(p.GetProperty("received_per_second_per_consumer").GetDouble() / commitOnly - ratio), 0, 1e-3);
                ratios.TryAdd(name, []);
                ratios[name].Add(ratio);
            }
        }

        var summaries = root.GetProperty("phase_summaries").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal(live.Order(), summaries.Keys.Order());
        foreach (var (name, s) in summaries)
        {
            Assert.Equal(Rounds, s.GetProperty("rounds").GetInt32());
            Assert.Equal(Rounds, s.GetProperty("commits_per_second").GetProperty("values").GetArrayLength());
            Assert.Equal(0, s.GetProperty("lost").GetInt32());
            if (s.GetProperty("transport").GetString() == "none") continue;
            var ratio = s.GetProperty("ratio_to_commit_only");
            Assert.Equal(ratios[name], ratio.GetProperty("values").EnumerateArray().Select(e => e.GetDouble()));
            Assert.Equal(Median(ratios[name]), ratio.GetProperty("median").GetDouble(), 4);
            Assert.Equal(ratios[name].Min(), ratio.GetProperty("min").GetDouble());
            Assert.Equal(ratios[name].Max(), ratio.GetProperty("max").GetDouble());
            // Latency pooled over the rounds: every fast consumer's every case of every round.
            Assert.Equal(Rounds * Consumers * Cases, s.GetProperty("latency_ms").GetProperty("count").GetInt32());
        }
        var grpc = summaries[$"gRPC ×{Consumers}"];
        Assert.Equal(Median(ratios[$"gRPC ×{Consumers}"]), root.GetProperty("ratio").GetDouble(), 4);
        Assert.Equal(Median(ratios[$"in-process ×{Consumers}"]), root.GetProperty("in_process_ratio").GetDouble(), 4);
        Assert.Equal(grpc.GetProperty("received_per_second_per_consumer").GetProperty("median").GetDouble(),
            root.GetProperty("received_per_second_per_consumer").GetDouble());
        Assert.Equal(summaries["commit only"].GetProperty("commits_per_second").GetProperty("median").GetDouble(),
            root.GetProperty("commit_only_per_second").GetDouble());
        Assert.Equal(Rounds * Consumers * Cases, root.GetProperty("latency_ms").GetProperty("count").GetInt32());
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    [Fact]
    public async Task Bench_feed_with_no_consumers_exits_2_in_one_line()
    {
        var (code, _, stderr) = await CitysightProcess.RunAsync(TimeSpan.FromSeconds(60), "bench-feed", "--consumers", "0");

        Assert.Equal(2, code);
        Assert.Contains("--consumers", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    private static void AssertLatency(JsonElement l)
    {
        double p50 = l.GetProperty("p50").GetDouble(), p95 = l.GetProperty("p95").GetDouble(),
            p99 = l.GetProperty("p99").GetDouble(), max = l.GetProperty("max").GetDouble();
        Assert.True(p50 >= 0 && p50 <= p95 && p95 <= p99 && p99 <= max, $"p50 {p50}, p95 {p95}, p99 {p99}, max {max}");
        Assert.True(l.GetProperty("count").GetInt32() > 0);
    }
}
