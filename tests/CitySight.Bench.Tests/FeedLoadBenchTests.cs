using System.Text.Json;
using CitySight.Tests;

namespace CitySight.Bench.Tests;

/// <summary>
/// `citysight bench-feed --idle-subscribers N --ack-flood` (issue 14), kept small: quiet then loaded commit latency,
/// idle subscribers (in a child process, as the command runs them, or in the bench's own), an ack flood.
/// </summary>
public class FeedLoadBenchTests
{
    [Fact]
    public async Task Bench_feed_with_idle_subscribers_and_an_ack_flood_reports_both_latencies_memory_and_no_loss()
    {
        var dir = TestAssets.TempDir("bench-feed-load");
        var json = Path.Combine(dir, "load.json");

        var (code, stdout, stderr) = await CitysightProcess.RunAsync(TimeSpan.FromSeconds(180), "bench-feed",
            "--idle-subscribers", "150", "--ack-flood", "--ack-flood-clients", "2", "--cases", "60", "--rate", "40", "--rounds", "1",
            "--data", Path.Combine(dir, "stores"), "--json", json,
            // The suite's other assemblies load both cores meanwhile: at nice 19 the clients starve, and the bench counts what
            // they have not received by its timeout as lost.
            "--client-nice", "0");

        Assert.True(code == 0, stderr);
        var r = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal(150, r.GetProperty("idle_subscribers").GetInt32());
        Assert.Equal(2, r.GetProperty("channels").GetInt32()); // one per 100 streams
        Assert.Equal(60, r.GetProperty("quiet_commit_ms").GetProperty("count").GetInt32());
        Assert.Equal(60, r.GetProperty("loaded_commit_ms").GetProperty("count").GetInt32());
        Assert.True(r.GetProperty("p99_ratio").GetDouble() > 0);
        Assert.Equal(0, r.GetProperty("lost").GetInt64());
        Assert.Equal(0, r.GetProperty("duplicates").GetInt64());
        Assert.Equal(0, r.GetProperty("subscribers_failed").GetInt32());
        // The clients ran in their own process: the server's memory per subscriber is its side alone.
        Assert.True(r.GetProperty("client_process_resident_mib").GetDouble() > 0);
        Assert.True(r.GetProperty("managed_bytes_per_subscriber").GetDouble() > 0);
        // The flood was answered, in far fewer cursor commits than acks.
        var acks = r.GetProperty("acks").GetInt64();
        var commits = r.GetProperty("ack_commits").GetInt64();
        Assert.True(acks > 0 && commits > 0 && commits < acks, $"{acks} acks in {commits} commits");
        Assert.True(r.GetProperty("ack_flood_error").ValueKind == JsonValueKind.Null, r.GetProperty("ack_flood_error").ToString());
        Assert.Contains("p99 loaded / p99 quiet", stdout);
    }

    [Fact]
    public async Task Without_a_command_for_a_child_the_idle_subscribers_run_in_the_bench_and_get_every_event_once()
    {
        var o = new FeedBenchOptions
        {
            IdleSubscribers = 120, Cases = 40, Rate = 80, Rounds = 2, AckFlood = true, AckFloodClients = 1,
            DataFolder = TestAssets.TempDir("bench-feed-load-inproc"), Timeout = TimeSpan.FromSeconds(60),
        };
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));

        var r = await FeedBench.RunLoadAsync(o, new NoProgress(), cts.Token);

        Assert.Equal(2, r.Rounds);
        Assert.Null(r.ClientProcessResidentMib);
        Assert.Equal(80, r.QuietCommitMs!.Count); // pooled over the rounds
        Assert.Equal(80, r.LoadedCommitMs!.Count);
        Assert.Equal(0, r.Lost);
        Assert.Equal(0, r.Duplicates);
        Assert.Equal(0, r.SubscribersFailed);
        Assert.True(r.AckCommits < r.Acks, $"{r.Acks} acks in {r.AckCommits} commits");
    }

    [Fact]
    public async Task The_ack_flood_without_idle_subscribers_is_refused()
    {
        var (code, _, stderr) = await CitysightProcess.RunAsync(TimeSpan.FromSeconds(60), "bench-feed", "--ack-flood");
        Assert.Equal(2, code);
        Assert.Contains("--ack-flood: only with --idle-subscribers", stderr);
    }

    private sealed class NoProgress : IFeedBenchProgress
    {
        public void Phase(string name, int total) { }
        public void Progress(string name, int committed, int slowestReceived) { }
        public void Done(string name, string summary) { }
    }
}
