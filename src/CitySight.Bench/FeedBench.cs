using System.Diagnostics;
using CitySight.Cases.Sqlite;

namespace CitySight.Bench;

/// <summary>
/// The delivery benchmark of issue 7: a real <see cref="SqliteCaseStore"/> (fsync per commit) in a temp folder, served by a real
/// Kestrel gRPC server wired like the service (h2c on 127.0.0.1), N consumers each with its own channel and name, acking
/// every K events; a producer commits M cases. Baselines measured in the same run: the same commits with no consumer at
/// all, and the same live delivery through the store's in-process follower (no gRPC).
/// </summary>
internal static partial class FeedBench
{
    /// <summary>The slow consumer is called unaffected while the fast consumers' p99 stays within this factor...</summary>
    public const double UnaffectedFactor = 1.5;
    /// <summary>...or within this many ms (p99 of a few ms is noisy in absolute terms).</summary>
    public const double UnaffectedSlackMs = 2.0;

    private const string CommitOnly = "commit only";
    private static readonly TimeSpan WarmupTimeout = TimeSpan.FromSeconds(30);

    private enum Live { CommitOnly, InProcess, Grpc, GrpcSlow }

    public static async Task<FeedBenchResult> RunAsync(FeedBenchOptions o, IFeedBenchProgress progress, CancellationToken ct)
    {
        var root = RootOf(o);
        Directory.CreateDirectory(root);
        var total = Stopwatch.StartNew();
        var evidence = Enumerable.Range(0, 32).Select(i => Jpeg(i, o.EvidenceBytes)).ToArray();
        var phases = new List<PhaseFigures>();
        var rounds = new List<RoundFigures>();
        var roundCount = Math.Max(o.Rounds, 1);
        var kinds = new List<Live> { Live.CommitOnly, Live.InProcess, Live.Grpc };
        if (o.SlowConsumer) kinds.Add(Live.GrpcSlow);
        try
        {
            // The live phases run once per round, forward in odd rounds and reversed in even ones (commit only, in-process,
            // gRPC, [slow] | [slow], gRPC, in-process, commit only | ...): a load that comes and goes between phases then hits
            // every phase alike, and each round's ratios are against that round's own commit-only rate. Replays run once, in
            // round 1, right after their live phase (on its full store).
            for (var round = 1; round <= roundCount; round++)
            {
                var order = round % 2 == 1 ? kinds : Enumerable.Reverse(kinds).ToList();
                var folder = roundCount == 1 ? root : Path.Combine(root, $"round-{round}");
                var tag = roundCount == 1 ? "" : $" · round {round}/{roundCount}";
                var replay = o.Replay && round == 1;
                var ran = new List<PhaseFigures>();
                foreach (var kind in order)
                {
                    ran.AddRange(kind switch
                    {
                        Live.CommitOnly => [await CommitOnlyAsync(o, CommitOnly, tag, Path.Combine(folder, "commit-only"), evidence, progress, ct)],
                        Live.InProcess => await DeliveryAsync(o, Transport.InProcess, slow: false, replay, tag, Path.Combine(folder, "in-process"), evidence, progress, ct),
                        Live.Grpc => await DeliveryAsync(o, Transport.Grpc, slow: false, replay, tag, Path.Combine(folder, "grpc"), evidence, progress, ct),
                        _ => await DeliveryAsync(o, Transport.Grpc, slow: true, replay: false, tag, Path.Combine(folder, "grpc-slow"), evidence, progress, ct),
                    });
                }
                var commitRate = ran.Single(p => p.Transport == "none").CommitsPerSecond;
                ran = ran.Select(p => (p.Transport == "none" ? p : p with { RatioToCommitOnly = RatioOf(p.ReceivedPerSecondPerConsumer, commitRate) }) with { Round = round })
                    .ToList();
                phases.AddRange(ran);
                rounds.Add(new RoundFigures(round, ran.Where(p => p.Live).Select(p => p.Name).ToList(), commitRate, ran.Where(p => p.Live)
                    .Select(p => new RoundPhaseFigures(p.Name, p.Transport, p.SlowConsumers, p.Seconds, p.CommitsPerSecond, p.ReceivedPerSecondPerConsumer,
                        p.ReceivedPerSecondTotal, p.RatioToCommitOnly, p.LatencyMs, p.Lost, p.Duplicates, p.OutOfOrder, p.CpuPercent, p.PeakWorkingSetMib,
                        p.SlowBacklogAtEnd))
                    .ToList()));
            }

            // Per live phase, in the forward order: medians and ranges over the rounds, latencies pooled, counts summed.
            var summaries = phases.Where(p => p.Live).GroupBy(p => p.Name).Select(Summarize)
                .OrderBy(s => s.Transport switch { "none" => 0, "in-process" => 1, _ => 2 }).ThenBy(s => s.SlowConsumers).ToList();
            var commitOnly = summaries.Single(s => s.Transport == "none");
            var inProcess = summaries.Single(s => s.Transport == "in-process");
            var live = summaries.Single(s => s.Transport == "grpc" && s.SlowConsumers == 0);
            var slowPhase = summaries.SingleOrDefault(s => s.SlowConsumers > 0);

            var p99Without = live.LatencyMs?.P99;
            var p99With = slowPhase?.LatencyMs?.P99;
            bool? unaffected = p99Without is { } a && p99With is { } b ? b <= Math.Max(a * UnaffectedFactor, a + UnaffectedSlackMs) : null;
            return new FeedBenchResult(
                Device(), Environment.ProcessorCount, root, FileSystemOf(root), o.Cases, o.Consumers, o.AckEvery, o.IncludeEvidence, o.Rate,
                o.EvidenceBytes, o.SlowConsumer, o.SlowDelay.TotalMilliseconds,
                commitOnly.CommitsPerSecond.Median, commitOnly.CommitsPerSecond.Values[0], commitOnly.CommitsPerSecond.Values[^1],
                live.ReceivedPerSecondPerConsumer!.Median, live.ReceivedPerSecondTotal!.Median, live.RatioToCommitOnly!.Median, inProcess.RatioToCommitOnly!.Median,
                live.LatencyMs, live.Lost, live.Duplicates, live.OutOfOrder,
                p99Without, p99With, p99Without is > 0 && p99With is { } w ? R3(w / p99Without.Value) : null, unaffected,
                slowPhase is null ? null : live.PeakWorkingSetMib, slowPhase?.PeakWorkingSetMib, slowPhase?.SlowBacklogAtEndMax,
                phases.Max(p => p.PeakWorkingSetMib), R1(PeakRssBytes() / 1048576.0), R2(total.Elapsed.TotalSeconds),
                roundCount, commitOnly.CommitsPerSecond.Min, commitOnly.CommitsPerSecond.Max, live.RatioToCommitOnly.Min, live.RatioToCommitOnly.Max,
                inProcess.RatioToCommitOnly.Min, inProcess.RatioToCommitOnly.Max, summaries, rounds, phases);
        }
        catch when (o.DataFolder is null && !o.Keep)
        {
            RemoveStores(o, root);
            throw;
        }
    }

    private static double RatioOf(double received, double commitRate) => commitRate > 0 ? Math.Round(received / commitRate, 4) : double.NaN;

    /// <summary>One live phase's rounds (in round order) as one summary.</summary>
    private static PhaseSummary Summarize(IGrouping<string, PhaseFigures> group)
    {
        var runs = group.OrderBy(p => p.Round).ToList();
        var first = runs[0];
        var delivery = first.Transport != "none";
        var fast = runs.SelectMany(p => p.ConsumerResults.Where(c => !c.Slow)).ToList();
        return new PhaseSummary(first.Name, first.Transport, first.Consumers, first.SlowConsumers, runs.Count,
            SpreadOf(runs.Select(p => p.CommitsPerSecond), R2),
            delivery ? SpreadOf(runs.Select(p => p.ReceivedPerSecondPerConsumer), R2) : null,
            delivery ? SpreadOf(runs.Select(p => p.ReceivedPerSecondTotal), R2) : null,
            delivery ? SpreadOf(runs.Select(p => p.RatioToCommitOnly), v => Math.Round(v, 4)) : null,
            delivery ? Stats(runs.SelectMany(p => p.RawLatencyMs).ToArray()) : null,
            delivery ? Stats(runs.SelectMany(p => p.RawAckMs).ToArray()) : null,
            runs.Sum(p => p.Lost), runs.Sum(p => p.Duplicates), runs.Sum(p => p.OutOfOrder),
            fast.Count == 0 ? 0 : fast.Min(c => c.Received),
            Median(runs.Select(p => p.CpuPercent).ToList(), R1), runs.Max(p => p.PeakWorkingSetMib),
            runs.Any(p => p.SlowBacklogAtEnd is not null) ? runs.Max(p => p.SlowBacklogAtEnd ?? 0) : null);
    }

    private static Spread SpreadOf(IEnumerable<double> values, Func<double, double> round)
    {
        var list = values.ToList();
        return new Spread(Median(list, round), list.Min(), list.Max(), list);
    }

    /// <summary>The middle value; with an even count, the mean of the two middle ones.</summary>
    public static double Median(IReadOnlyCollection<double> values, Func<double, double> round)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var mid = sorted.Length / 2;
        return round(sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2);
    }

    /// <summary>The folder the phases' stores go in: --data, or one under the temp folder named for this process.</summary>
    private static string RootOf(FeedBenchOptions o) =>
        Path.GetFullPath(o.DataFolder ?? Path.Combine(Path.GetTempPath(), $"citysight-feedbench-{Environment.ProcessId}-{Stopwatch.GetTimestamp():x}"));

    /// <summary>Deletes the temp stores (tens of thousands of files: seconds). Called after the figures are out, never inside a phase.</summary>
    public static void RemoveStores(FeedBenchOptions o, string? root = null)
    {
        if (o.DataFolder is not null || o.Keep) return;
        try
        {
            if (root is not null && Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private enum Transport { InProcess, Grpc }
}
