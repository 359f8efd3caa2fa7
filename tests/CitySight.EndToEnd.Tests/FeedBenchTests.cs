using System.Text.Json;
using CitySight.Tests;

namespace CitySight.EndToEnd.Tests;

/// <summary>
/// `citysight bench-feed` as a user runs it (a real process, stdout/stderr redirected as in CI), kept small: a few hundred
/// cases to two consumers. The test checks the receipts itself from the JSON, not only the bench's own verdict.
/// </summary>
public class FeedBenchTests
{
    private const int Cases = 300;
    private const int Consumers = 2;

    [Fact]
    public async Task Bench_feed_delivers_every_committed_case_to_every_consumer_in_sequence_order_and_writes_the_figures()
    {
        var dir = TestAssets.TempDir("bench-feed");
        var json = Path.Combine(dir, "feed.json");

        var (code, stdout, stderr) = await CitysightProcess.RunAsync(TimeSpan.FromSeconds(180), "bench-feed",
            "--cases", $"{Cases}", "--consumers", $"{Consumers}", "--ack-every", "50", "--slow-consumer", "--slow-delay", "5",
            "--data", Path.Combine(dir, "stores"), "--json", json, "--json-receipts");

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

        var phases = root.GetProperty("phases").EnumerateArray().ToList();
        Assert.Equal(2, phases.Count(p => p.GetProperty("transport").GetString() == "none")); // commit-only, first and last
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
