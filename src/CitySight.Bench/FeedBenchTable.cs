using System.Globalization;
using Spectre.Console;

namespace CitySight.Bench;

/// <summary>The bench-feed table and summary lines on stdout: medians and ranges over the rounds, per phase.</summary>
internal static class FeedBenchTable
{
    public static Table Create(FeedBenchResult r)
    {
        var table = new Table { Border = TableBorder.Rounded };
        table.Title = new TableTitle(Markup.Escape($"case feed · {r.Cases} cases · {r.Consumers} consumer(s) · {r.RoundCount} round(s) · {r.Device}"));
        foreach (var header in new[] { "phase", "rounds", "commits/s\nmedian (range)", "received/s per consumer\nmedian (range)", "received/s total\nmedian (range)",
                     "ratio to commit-only\nmedian (range)", "p50\nms", "p95\nms", "p99\nms", "max\nms", "lost", "dup", "out of\norder", "ack p99\nms", "CPU\n%", "peak WS\nMiB" })
            table.AddColumn(new TableColumn(header) { Alignment = header == "phase" ? Justify.Left : Justify.Right });
        foreach (var s in r.PhaseSummaries)
        {
            var isBaseline = s.Transport == "none";
            table.AddRow(
                Markup.Escape(s.Name),
                s.Rounds.ToString(CultureInfo.InvariantCulture),
                S(s.CommitsPerSecond, "F0"),
                S(s.ReceivedPerSecondPerConsumer, "F0"),
                S(s.ReceivedPerSecondTotal, "F0"),
                isBaseline ? "baseline" : S(s.RatioToCommitOnly, "F3"),
                L(s.LatencyMs, l => l.P50), L(s.LatencyMs, l => l.P95), L(s.LatencyMs, l => l.P99), L(s.LatencyMs, l => l.Max),
                isBaseline ? "-" : s.Lost == 0 ? "[green]0[/]" : $"[red]{s.Lost}[/]",
                isBaseline ? "-" : s.Duplicates.ToString(CultureInfo.InvariantCulture),
                isBaseline ? "-" : s.OutOfOrder.ToString(CultureInfo.InvariantCulture),
                L(s.AckMs, l => l.P99),
                F(s.CpuPercentMedian, "F0"),
                F(s.PeakWorkingSetMib, "F0"));
        }
        foreach (var p in r.Phases.Where(p => !p.Live))
        {
            table.AddRow(
                Markup.Escape(p.Name + " (full store)"),
                "1",
                "-",
                F(p.ReceivedPerSecondPerConsumer, "F0"),
                F(p.ReceivedPerSecondTotal, "F0"),
                F(p.RatioToCommitOnly, "F3"),
                "-", "-", "-", "-",
                p.Lost == 0 ? "[green]0[/]" : $"[red]{p.Lost}[/]",
                p.Duplicates.ToString(CultureInfo.InvariantCulture),
                p.OutOfOrder.ToString(CultureInfo.InvariantCulture),
                L(p.AckMs, l => l.P99),
                F(p.CpuPercent, "F0"),
                F(p.PeakWorkingSetMib, "F0"));
        }
        var caption = $"stores on {r.FileSystem} (SQLite WAL, synchronous=FULL, evidence fsync'd per case); " +
                      $"evidence {r.EvidenceBytes / 1024} KiB per case, include_evidence {(r.IncludeEvidence ? "true" : "false")}, ack every {r.AckEvery}, " +
                      $"rate {(r.Rate > 0 ? r.Rate.ToString("F0", CultureInfo.InvariantCulture) + "/s" : "unpaced")}; " +
                      $"live phases run in {r.RoundCount} round(s), forward then reversed order; rates and ratios = median (min–max) over the rounds; " +
                      "latency = OpenAsync returned → event in the consumer's hands, fast consumers only, pooled over all rounds; lost/dup/out of order summed over " +
                      "the rounds; received/s per consumer = the slowest fast consumer; ratio = that / the same round's commit-only rate, per round; " +
                      "replay = N new consumers reading the full store from sequence 0, once (round 1), ratio against round 1's commit-only rate; " +
                      $"CPU % of one core ({r.CpuCores} cores, median of the rounds); peak WS = this process (server, store and consumers), sampled every 20 ms, max of the rounds";
        table.Caption = new TableTitle(Markup.Escape(caption));
        return table;
    }

    public static IEnumerable<string> Summary(FeedBenchResult r)
    {
        var grpc = r.PhaseSummaries.First(s => s.Transport == "grpc" && s.SlowConsumers == 0);
        var rounds = r.RoundCount == 1 ? "1 round" : $"median of {r.RoundCount} rounds";
        yield return $"baseline: the store commits {r.CommitOnlyPerSecond:F0} cases/s with no consumer (fsync per case; {rounds}, " +
                     $"range {r.CommitOnlyMinPerSecond:F0}–{r.CommitOnlyMaxPerSecond:F0}/s; {r.CommitOnlyFirstPerSecond:F0}/s in round 1, {r.CommitOnlyLastPerSecond:F0}/s in round {r.RoundCount}).";
        yield return $"delivery: {r.Consumers} gRPC consumer(s) each received at least {grpc.MinReceived} of {r.Cases} cases in every round " +
                     $"at ≥ {r.ReceivedPerSecondPerConsumer:F0} cases/s ({r.ReceivedPerSecondTotal:F0}/s in total; {rounds}): ratio {r.Ratio:F3} " +
                     $"(range {r.RatioMin:F3}–{r.RatioMax:F3}) to the same round's commit-only (in-process follower: {r.InProcessRatio:F3}, range " +
                     $"{r.InProcessRatioMin:F3}–{r.InProcessRatioMax:F3}); commit→receipt p50 {r.LatencyMs?.P50:F2} ms, p99 {r.LatencyMs?.P99:F2} ms over all rounds; " +
                     $"lost {r.Lost}, duplicates {r.Duplicates}, out of order {r.OutOfOrder} (summed over the rounds).";
        foreach (var round in r.Rounds)
            yield return $"round {round.Round}: " + string.Join(" → ", round.Phases.Select(p => p.Transport == "none"
                ? $"{p.Name} {p.CommitsPerSecond:F0}/s"
                : $"{p.Name} {p.ReceivedPerSecondPerConsumer:F0}/s (ratio {p.RatioToCommitOnly:F3})"));
        if (r.Phases.FirstOrDefault(p => p.Transport == "grpc" && !p.Live) is { } replay)
            yield return $"capacity: a replay of the full store reaches {replay.ReceivedPerSecondPerConsumer:F0} cases/s per consumer " +
                         $"({replay.ReceivedPerSecondPerConsumer / r.CommitOnlyPerSecond:F1}× the median commit rate): live delivery is paced by commits.";
        if (r.SlowConsumer && r.PhaseSummaries.FirstOrDefault(s => s.SlowConsumers > 0) is { } s)
        {
            var slowest = r.Phases.Where(p => p.SlowConsumers > 0).MaxBy(p => p.SlowBacklogAtEnd ?? 0)!;
            var slow = slowest.ConsumerResults.Single(c => c.Slow);
            yield return $"slow consumer ({r.SlowDelayMs:F0} ms per event, with evidence): in its worst round (round {slowest.Round}) it had {slow.Received} of {r.Cases} " +
                         $"when the fast ones had all (backlog {s.SlowBacklogAtEndMax} cases ≈ {s.SlowBacklogAtEndMax * (r.EvidenceBytes + 1024) / 1048576.0:F0} MiB of messages); " +
                         $"fast consumers' p99 {r.FastP99WithSlowMs:F2} ms with it vs {r.FastP99WithoutSlowMs:F2} ms without (pooled over the rounds; ×{r.SlowP99Ratio:F2}: " +
                         $"{(r.FastConsumersUnaffected == true ? "unaffected" : "AFFECTED")}, rule ≤ ×{FeedBench.UnaffectedFactor} or +{FeedBench.UnaffectedSlackMs} ms); " +
                         $"peak working set {r.PeakWorkingSetWithSlowMib:F0} MiB with it vs {r.PeakWorkingSetWithoutSlowMib:F0} MiB without.";
        }
        yield return $"process peak RSS {r.ProcessPeakRssMib:F0} MiB; whole run {r.TotalSeconds:F0} s.";
    }

    /// <summary>"median (min–max)", or the value alone for one round.</summary>
    private static string S(Spread? s, string format) => s is null ? "-"
        : s.Values.Count == 1 ? F(s.Median, format)
        : $"{F(s.Median, format)} ({F(s.Min, format)}–{F(s.Max, format)})";

    private static string F(double v, string format) => double.IsNaN(v) ? "-" : v.ToString(format, CultureInfo.InvariantCulture);

    private static string L(LatencyFigures? l, Func<LatencyFigures, double> pick) => l is null ? "-" : pick(l).ToString("F2", CultureInfo.InvariantCulture);
}
