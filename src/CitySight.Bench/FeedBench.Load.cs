using System.Diagnostics;
using CitySight.Cases.Sqlite;
using CitySight.Delivery;

namespace CitySight.Bench;

internal static partial class FeedBench
{
    // ---------------------------------------------------------------- issue 14: idle subscribers and an ack flood

    /// <summary>The loaded p99 commit latency should stay within this factor of the quiet one.</summary>
    public const double LoadGoalRatio = 2.0;
    /// <summary>Cases per second when --rate is not given: a steady pace, not the store's limit.</summary>
    public const double DefaultLoadRate = 50;
    /// <summary>Streams per client channel: Kestrel takes 100 concurrent streams per HTTP/2 connection by default.</summary>
    private const int StreamsPerChannel = 100;
    /// <summary>Ack calls each flood client keeps in flight.</summary>
    private const int FloodInFlight = 32;

    /// <summary>
    /// One store, one Kestrel: cases committed at a steady rate with no subscriber (quiet), then the same with N idle
    /// subscribers (real gRPC streams over loopback, one channel per 100) and, with <see cref="FeedBenchOptions.AckFlood"/>,
    /// a few clients (beside the subscribers) acking what the subscribers received as fast as the server answers. The subscribers run in a child process when
    /// <see cref="FeedBenchOptions.ClientCommand"/> says how to start one (the memory per subscriber is then the server's
    /// side alone), else in this process (both ends of each stream).
    /// </summary>
    public static async Task<FeedLoadResult> RunLoadAsync(FeedBenchOptions o, IFeedBenchProgress progress, CancellationToken ct)
    {
        var root = RootOf(o);
        Directory.CreateDirectory(root);
        var total = Stopwatch.StartNew();
        var rate = o.Rate > 0 ? o.Rate : DefaultLoadRate;
        var rounds = Math.Max(o.Rounds, 1);
        var evidence = Enumerable.Range(0, 32).Select(i => Jpeg(i, o.EvidenceBytes)).ToArray();
        try
        {
            using var store = new SqliteCaseStore(Path.Combine(root, "load"));
            var limits = new SubscriberLimits { Total = o.IdleSubscribers + o.AckFloodClients + 16 };
            await using var server = await LoopbackGrpcServer.CaseFeedAsync(store, subscribers: limits);

            // Warm-up: the commit path and the JIT, before anything is timed.
            await ProduceAsync(store, new Run(20, evidence), 0, Stopwatch.GetTimestamp(), _ => { }, ct);

            // Quiet and loaded alternate, round by round: load that other processes put on the machine meanwhile then
            // falls on both alike; the latencies of each kind are pooled over the rounds.
            var quiet = new List<(Run Run, PhaseLoad Load)>();
            var loaded = new List<LoadedRound>();
            for (var round = 1; round <= rounds; round++)
            {
                var tag = rounds == 1 ? "" : $" · round {round}/{rounds}";
                var q = new Run(o.Cases, evidence);
                quiet.Add((q, await TimedCommitsAsync("quiet: no subscriber" + tag, store, q, rate, progress, ct)));
                loaded.Add(await LoadedAsync(o, store, server.Address, rate, evidence, tag, progress, ct));
            }

            var quietMs = Stats(quiet.SelectMany(q => q.Run.CommitMs()).ToArray());
            var loadedMs = Stats(loaded.SelectMany(l => l.Run.CommitMs()).ToArray());
            double? ratio = quietMs is { P99: > 0 } qm && loadedMs is { } lm ? R2(lm.P99 / qm.P99) : null;
            var first = loaded[0];
            var acks = loaded.Sum(l => l.Idle.Acks);
            return new FeedLoadResult(Device(), Environment.ProcessorCount, root, FileSystemOf(root), o.Cases, rate, o.EvidenceBytes, rounds, store.WriterPriorityRaised,
                o.IdleSubscribers, first.Channels, o.AckFlood ? o.AckFloodClients : 0, FloodInFlight, quietMs, loadedMs, ratio, LoadGoalRatio,
                ratio is { } r ? r <= LoadGoalRatio : null,
                Median(quiet.Select(q => q.Load.CpuPercent).ToList(), R1), Median(loaded.Select(l => l.Load.CpuPercent).ToList(), R1),
                R1(quiet.Sum(q => q.Load.GcPauseMs)), R1(loaded.Sum(l => l.Load.GcPauseMs)),
                quiet.Sum(q => q.Load.Collections), loaded.Sum(l => l.Load.Collections),
                R1(quiet.Sum(q => q.Load.AllocatedBytes) / 1048576.0), R1(loaded.Sum(l => l.Load.AllocatedBytes) / 1048576.0),
                acks, o.AckFlood ? R1(acks / Math.Max(loaded.Sum(l => l.Idle.AckSeconds), 1e-9)) : 0, loaded.Sum(l => l.AckCommits),
                o.AckFlood ? Stats(loaded.SelectMany(l => l.Idle.AckMs).ToArray()) : null, loaded.Select(l => l.Idle.AckError).FirstOrDefault(e => e is not null),
                first.SubscribeSeconds, R1(first.ManagedBytes / (double)o.IdleSubscribers), R1(first.ResidentBytes / (double)o.IdleSubscribers),
                first.ManagedMib.Before, first.ManagedMib.After, first.ResidentMib.Before, first.ResidentMib.After,
                first.ClientResidentBytes is { } client ? R1(client / 1048576.0) : null,
                loaded.Sum(l => l.Idle.Failed), loaded.Select(l => l.Idle.FirstError).FirstOrDefault(e => e is not null),
                loaded.Sum(l => l.Idle.Lost), loaded.Sum(l => l.Idle.Duplicates), R2(total.Elapsed.TotalSeconds));
        }
        catch when (o.DataFolder is null && !o.Keep)
        {
            RemoveStores(o, root);
            throw;
        }
    }

    /// <summary>One loaded phase: N idle subscribers open (and counted in memory), the ack flood, the timed commits; all closed after.</summary>
    private static async Task<LoadedRound> LoadedAsync(FeedBenchOptions o, SqliteCaseStore store, string address, double rate, byte[][] evidence,
        string tag, IFeedBenchProgress progress, CancellationToken ct)
    {
        // Idle subscribers: open them all, then one commit that every one of them must receive before the clock starts.
        Settle();
        var heap0 = GC.GetTotalMemory(true);
        var rss0 = ProcessUsage.RssBytes(ProcessUsage.Self);
        var subscribeStart = Stopwatch.GetTimestamp();
        var after = store.LastSequence;
        await using IIdleSubscribers idle = o.ClientCommand is { Count: > 0 } command
            ? new IdleClientProcess(command, address, o.IdleSubscribers, after, o.ClientNice)
            : new InProcessIdle(address, o.IdleSubscribers, after, ct);
        var opening = $"subscribing ×{o.IdleSubscribers}{tag}";
        progress.Phase(opening, 1);
        await store.OpenAsync(new Run(1, evidence).Make(0), ct);
        await idle.ReadyAsync(o.Timeout, ct);
        var subscribeSeconds = Stopwatch.GetElapsedTime(subscribeStart).TotalSeconds;
        progress.Done(opening, $"{o.IdleSubscribers} subscribers open in {subscribeSeconds:F1} s");
        Settle();
        var heap1 = GC.GetTotalMemory(true);
        var rss1 = ProcessUsage.RssBytes(ProcessUsage.Self);

        var run = new Run(o.Cases, evidence);
        var commitsBefore = store.AckCommits;
        await idle.ExpectAsync(store.LastSequence + 1, o.Cases, o.AckFlood ? o.AckFloodClients : 0);
        var load = await TimedCommitsAsync($"loaded: {o.IdleSubscribers} idle" + (o.AckFlood ? " + ack flood" : "") + tag, store, run, rate, progress, ct);
        var counts = await idle.FinishAsync(o.Timeout, ct); // the flood stops once every subscriber has every case
        return new LoadedRound(run, load, idle.Channels, idle.ClientResidentBytes, R2(subscribeSeconds), heap1 - heap0, rss1 - rss0,
            (R1(heap0 / 1048576.0), R1(heap1 / 1048576.0)), (R1(rss0 / 1048576.0), R1(rss1 / 1048576.0)), store.AckCommits - commitsBefore, counts);
    }

    /// <summary>What one loaded phase measured (memory: before the subscribers were opened and once they all were).</summary>
    private sealed record LoadedRound(Run Run, PhaseLoad Load, int Channels, long? ClientResidentBytes, double SubscribeSeconds, long ManagedBytes,
        long ResidentBytes, (double Before, double After) ManagedMib, (double Before, double After) ResidentMib, long AckCommits, IdleCounts Idle);

    /// <summary>Commits <paramref name="run"/> at <paramref name="rate"/>: this process's CPU use meanwhile (percent of one core) and its GC pauses.</summary>
    private static async Task<PhaseLoad> TimedCommitsAsync(string name, SqliteCaseStore store, Run run, double rate, IFeedBenchProgress progress,
        CancellationToken ct)
    {
        progress.Phase(name, run.Cases);
        var cpu = ProcessUsage.SelfCpuSeconds();
        var pause = GC.GetTotalPauseDuration();
        var gcs = GC.CollectionCount(0);
        var allocated = GC.GetTotalAllocatedBytes();
        var start = Stopwatch.GetTimestamp();
        await Task.Run(() => ProduceAsync(store, run, rate, start, n => progress.Progress(name, n, n), ct), ct);
        var percent = (ProcessUsage.SelfCpuSeconds() - cpu) / Seconds(start, Stopwatch.GetTimestamp()) * 100;
        var ms = Stats(run.CommitMs());
        progress.Done(name, $"{name}: commit p50 {ms?.P50:F2} ms, p99 {ms?.P99:F2} ms");
        return new PhaseLoad(R1(percent), R1((GC.GetTotalPauseDuration() - pause).TotalMilliseconds), GC.CollectionCount(0) - gcs,
            GC.GetTotalAllocatedBytes() - allocated);
    }

    /// <summary>What one timed phase cost this process: CPU (percent of one core), GC pause time and collections.</summary>
    private sealed record PhaseLoad(double CpuPercent, double GcPauseMs, int Collections, long AllocatedBytes);
}
