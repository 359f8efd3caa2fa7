using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace CitySight.Cli.Bench;

/// <summary>
/// `citysight bench-feed`: cases through the gRPC case feed to N concurrent consumers (issue 7): throughput, commit-to-receipt
/// latency, lost and duplicated cases, against the store's commit rate alone measured in the same run.
/// Table on stdout, progress on stderr, optional JSON.
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
        var cmd = new Command("bench-feed",
            "Cases through the gRPC case feed to N concurrent consumers: throughput, commit-to-receipt latency p50/p95/p99, lost and duplicated " +
            "cases, against the store's commit rate with no consumer and against the in-process follower (no gRPC), in the same run.")
        {
            cases, consumers, ackEvery, evidence, rate, evidenceKb, slow, slowDelay, timeout, data, keep, noReplay, json, receipts, rounds,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            try
            {
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
                };
                Validate(o);
                return await RunAsync(o, parse.GetValue(json), ct);
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
    }

    private static async Task<int> RunAsync(FeedBenchOptions o, string? jsonPath, CancellationToken ct)
    {
        var err = MakeConsole(Console.Error, Console.IsErrorRedirected);
        err.MarkupLine($"[grey]bench-feed: {o.Cases} cases per phase, {o.Consumers} consumer(s), ack every {o.AckEvery}, " +
                       $"evidence {o.EvidenceBytes / 1024} KiB (include_evidence {(o.IncludeEvidence ? "true" : "false")}), " +
                       $"rate {(o.Rate > 0 ? o.Rate.ToString("F0", CultureInfo.InvariantCulture) + "/s" : "as fast as the store commits")}" +
                       (o.SlowConsumer ? $", + a slow-consumer phase ({o.SlowDelay.TotalMilliseconds:F0} ms per event)" : "") +
                       $", {o.Rounds} round(s) of the live phases in alternating order[/]");
        FeedBenchResult? result = null;
        await err.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx => result = await FeedBench.RunAsync(o, new SpectreProgress(ctx), ct));

        var r = result!;
        if (r.FileSystem.StartsWith("tmpfs", StringComparison.Ordinal))
            Console.Error.WriteLine($"warning: the stores are on {r.FileSystem}: fsync costs nothing there, so commit rates are far above a real disk's (use --data)");
        var output = MakeConsole(Console.Out, Console.IsOutputRedirected);
        output.Write(Table(r));
        foreach (var line in Summary(r)) output.WriteLine(line);

        if (jsonPath is not null)
        {
            try
            {
                var folder = Path.GetDirectoryName(Path.GetFullPath(jsonPath));
                if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
                await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(r, BenchReport.Json) + "\n", ct);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new BenchException($"cannot write {jsonPath}: {ex.Message}");
            }
            Console.Error.WriteLine($"bench-feed: JSON written to {jsonPath}");
        }
        if (o.DataFolder is null && !o.Keep)
        {
            Console.Error.WriteLine($"bench-feed: removing the temp stores in {r.DataFolder}");
            FeedBench.RemoveStores(o, r.DataFolder);
        }
        var lost = r.Phases.Sum(p => p.Lost);
        if (lost > 0)
        {
            Console.Error.WriteLine($"bench-feed: {lost} case(s) committed were never received by some consumer");
            return 1;
        }
        return 0;
    }

    private static Table Table(FeedBenchResult r)
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

    private static IEnumerable<string> Summary(FeedBenchResult r)
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

    private static IAnsiConsole MakeConsole(TextWriter writer, bool redirected) => BenchConsole.Create(writer, redirected, 220);

    /// <summary>One bar per phase: cases committed (or, for a replay, received by the slowest consumer).</summary>
    private sealed class SpectreProgress(ProgressContext ctx) : IFeedBenchProgress
    {
        private readonly Dictionary<string, ProgressTask> _tasks = [];

        public void Phase(string name, int total)
        {
            lock (_tasks) _tasks[name] = ctx.AddTask(Markup.Escape(name), maxValue: total);
        }

        public void Progress(string name, int committed, int slowestReceived)
        {
            ProgressTask t;
            lock (_tasks) t = _tasks[name];
            t.Value = committed;
            t.Description = Markup.Escape($"{name}: {committed} done, slowest consumer has {slowestReceived}");
        }

        public void Done(string name, string summary)
        {
            ProgressTask t;
            lock (_tasks) t = _tasks[name];
            t.Value = t.MaxValue;
            t.Description = Markup.Escape(summary);
            t.StopTask();
        }
    }
}
