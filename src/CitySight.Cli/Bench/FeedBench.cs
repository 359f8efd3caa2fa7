using System.Diagnostics;
using System.Net;
using System.Text.Json.Serialization;
using CitySight.Cases;
using CitySight.Delivery;
using CitySight.Delivery.V1;
using CitySight.Domain;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using DomainCase = CitySight.Domain.Case;

namespace CitySight.Cli.Bench;

/// <summary>What `citysight bench-feed` measures with.</summary>
internal sealed record FeedBenchOptions
{
    public int Cases { get; init; } = 10_000;
    public int Consumers { get; init; } = 4;
    public int AckEvery { get; init; } = 100;
    public bool IncludeEvidence { get; init; }
    /// <summary>Cases committed per second; 0 = as fast as the store takes them.</summary>
    public double Rate { get; init; }
    public int EvidenceBytes { get; init; } = 20 * 1024;
    public bool SlowConsumer { get; init; }
    public TimeSpan SlowDelay { get; init; } = TimeSpan.FromMilliseconds(20);
    /// <summary>How long to wait, once the last case is committed, for every consumer to have every case.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>Where the stores go (one subfolder per phase); null = a fresh folder under the system temp folder.</summary>
    public string? DataFolder { get; init; }
    public bool Keep { get; init; }
    public bool Replay { get; init; } = true;
    /// <summary>Write every receipt (case id and sequence, per consumer) and every commit into the JSON.</summary>
    public bool Receipts { get; init; }
    /// <summary>
    /// The live phases (commit only, in-process, gRPC, gRPC + slow) run this many times, in alternating order (forward, then
    /// reversed, ...), so that load from other processes hits every phase alike instead of whichever ran when the machine was busy.
    /// </summary>
    public int Rounds { get; init; } = 3;
}

/// <summary>Latency figures in milliseconds.</summary>
internal sealed record LatencyFigures(int Count, double P50, double P95, double P99, double Max, double Mean);

internal sealed record CommittedCase(string Id, long Sequence);

internal sealed record ConsumerFigures(
    string Name, bool Slow, bool IncludeEvidence, int Received, long Events, int Duplicates, int OutOfOrder, int Missing,
    long FirstSequence, long LastSequence, long AckedCursor, int Acks, double ReceivedPerSecond, LatencyFigures? LatencyMs,
    string? Error, List<string>? CaseIds, List<long>? Sequences);

/// <summary>One phase of the run: the commit-only baseline, live delivery (in-process or gRPC), or a replay of a full store.</summary>
internal sealed record PhaseFigures(
    string Name,
    string Transport,
    bool Live,
    int Consumers,
    int SlowConsumers,
    int Cases,
    double Seconds,
    double CommitsPerSecond,
    LatencyFigures? CommitMs,
    double ReceivedPerSecondPerConsumer,
    double ReceivedPerSecondPerConsumerMean,
    double ReceivedPerSecondTotal,
    double RatioToCommitOnly,
    LatencyFigures? LatencyMs,
    int Lost,
    int Duplicates,
    int OutOfOrder,
    int Acks,
    LatencyFigures? AckMs,
    double CpuPercent,
    double WorkingSetStartMib,
    double PeakWorkingSetMib,
    double PeakManagedHeapMib,
    int? SlowBacklogAtEnd,
    List<ConsumerFigures> ConsumerResults,
    List<CommittedCase>? Committed)
{
    /// <summary>The round this phase ran in (1-based); a replay runs in round 1.</summary>
    public int Round { get; init; } = 1;

    /// <summary>Every fast consumer's commit→receipt latency, ms (live phases): pooled over the rounds for the summary.</summary>
    [JsonIgnore] public double[] RawLatencyMs { get; init; } = [];

    /// <summary>Every ack's round trip, ms: pooled over the rounds for the summary.</summary>
    [JsonIgnore] public double[] RawAckMs { get; init; } = [];
}

/// <summary>A figure measured once per round: the median of the rounds, their range, and each round's value in order.</summary>
internal sealed record Spread(double Median, double Min, double Max, List<double> Values);

/// <summary>One live phase over all the rounds.</summary>
internal sealed record PhaseSummary(
    string Name,
    string Transport,
    int Consumers,
    int SlowConsumers,
    int Rounds,
    Spread CommitsPerSecond,
    Spread? ReceivedPerSecondPerConsumer,
    Spread? ReceivedPerSecondTotal,
    // Each round's received/s per consumer over that round's own commit-only rate; median and range of those.
    Spread? RatioToCommitOnly,
    // Pooled: every fast consumer's latency in every round.
    LatencyFigures? LatencyMs,
    LatencyFigures? AckMs,
    // Summed over the rounds.
    int Lost,
    int Duplicates,
    int OutOfOrder,
    // The fewest cases any fast consumer received in any round.
    int MinReceived,
    double CpuPercentMedian,
    double PeakWorkingSetMib,
    int? SlowBacklogAtEndMax);

/// <summary>One live phase in one round, for the JSON's rounds array.</summary>
internal sealed record RoundPhaseFigures(
    string Name,
    string Transport,
    int SlowConsumers,
    double Seconds,
    double CommitsPerSecond,
    double ReceivedPerSecondPerConsumer,
    double ReceivedPerSecondTotal,
    double RatioToCommitOnly,
    LatencyFigures? LatencyMs,
    int Lost,
    int Duplicates,
    int OutOfOrder,
    double CpuPercent,
    double PeakWorkingSetMib,
    int? SlowBacklogAtEnd);

/// <summary>One round: its phases in the order they ran, and its own commit-only rate (what its ratios are against).</summary>
internal sealed record RoundFigures(int Round, List<string> Order, double CommitOnlyPerSecond, List<RoundPhaseFigures> Phases);

internal sealed record FeedBenchResult(
    string Device,
    int CpuCores,
    string DataFolder,
    string FileSystem,
    int Cases,
    int Consumers,
    int AckEvery,
    bool IncludeEvidence,
    double Rate,
    int EvidenceBytes,
    bool SlowConsumer,
    double SlowDelayMs,
    double CommitOnlyPerSecond,
    double CommitOnlyFirstPerSecond,
    double CommitOnlyLastPerSecond,
    double ReceivedPerSecondPerConsumer,
    double ReceivedPerSecondTotal,
    double Ratio,
    double InProcessRatio,
    LatencyFigures? LatencyMs,
    int Lost,
    int Duplicates,
    int OutOfOrder,
    double? FastP99WithoutSlowMs,
    double? FastP99WithSlowMs,
    double? SlowP99Ratio,
    bool? FastConsumersUnaffected,
    double? PeakWorkingSetWithoutSlowMib,
    double? PeakWorkingSetWithSlowMib,
    int? SlowBacklogAtEnd,
    double PeakWorkingSetMib,
    double ProcessPeakRssMib,
    double TotalSeconds,
    // Rounds of the live phases (the rounds array has one entry per round).
    int RoundCount,
    double CommitOnlyMinPerSecond,
    double CommitOnlyMaxPerSecond,
    double RatioMin,
    double RatioMax,
    double InProcessRatioMin,
    double InProcessRatioMax,
    List<PhaseSummary> PhaseSummaries,
    List<RoundFigures> Rounds,
    List<PhaseFigures> Phases);

/// <summary>Progress of a phase, for the command's display.</summary>
internal interface IFeedBenchProgress
{
    void Phase(string name, int total);
    void Progress(string name, int committed, int slowestReceived);
    void Done(string name, string summary);
}

/// <summary>
/// The delivery benchmark of issue 7: a real <see cref="CaseStore"/> (fsync per commit) in a temp folder, served by a real
/// Kestrel gRPC server wired like the service (h2c on 127.0.0.1), N consumers each with its own channel and name, acking
/// every K events; a producer commits M cases. Baselines measured in the same run: the same commits with no consumer at
/// all, and the same live delivery through the store's in-process follower (no gRPC).
/// </summary>
internal static class FeedBench
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

    // ---------------------------------------------------------------- commit only

    private static async Task<PhaseFigures> CommitOnlyAsync(FeedBenchOptions o, string phaseName, string tag, string folder, byte[][] evidence,
        IFeedBenchProgress progress, CancellationToken ct)
    {
        var name = phaseName + tag; // the progress bar's name
        using var store = new CaseStore(folder);
        var run = new Run(o.Cases, evidence);
        await store.OpenAsync(run.Warmup(), ct); // the same warm-up commit every phase has
        progress.Phase(name, o.Cases);
        Settle();
        await using var memory = new MemorySampler();
        var cpu = ProcessUsage.SelfCpuSeconds();
        var start = Stopwatch.GetTimestamp();
        await Task.Run(() => ProduceAsync(store, run, o.Rate, start, n => progress.Progress(name, n, 0), ct), ct);
        var seconds = Seconds(start, run.LastCommit);
        var cpuPercent = (ProcessUsage.SelfCpuSeconds() - cpu) / Seconds(start, Stopwatch.GetTimestamp()) * 100;
        var commitsPerSecond = o.Cases / seconds;
        progress.Done(name, $"{name}: {commitsPerSecond:F0} commits/s");
        return new PhaseFigures(phaseName, "none", true, 0, 0, o.Cases, R3(seconds), R2(commitsPerSecond), Stats(run.CommitMs()),
            0, 0, 0, double.NaN, null, 0, 0, 0, 0, null, R1(cpuPercent), R1(memory.StartBytes / 1048576.0), R1(memory.PeakBytes / 1048576.0),
            R1(memory.PeakHeapBytes / 1048576.0), null, [], o.Receipts ? run.CommittedList() : null);
    }

    // ---------------------------------------------------------------- live delivery (+ replay)

    /// <summary>One live delivery phase, then (when <paramref name="replay"/>) a replay of its full store. Ratios are filled in by the round.</summary>
    private static async Task<List<PhaseFigures>> DeliveryAsync(FeedBenchOptions o, Transport transport, bool slow, bool replay, string tag, string folder,
        byte[][] evidence, IFeedBenchProgress progress, CancellationToken ct)
    {
        const double commitOnlyRate = double.NaN;
        var kind = transport == Transport.Grpc ? "gRPC" : "in-process";
        var phaseName = $"{kind} ×{o.Consumers}" + (slow ? " + 1 slow" : "");
        var name = phaseName + tag; // the progress bar's name
        var results = new List<PhaseFigures>();
        using var store = new CaseStore(folder);
        await using var server = transport == Transport.Grpc ? await LoopbackGrpcServer.CaseFeedAsync(store) : null;
        var run = new Run(o.Cases, evidence);
        var receivers = Enumerable.Range(0, o.Consumers)
            .Select(i => new Receiver($"bench-{(slow ? "s" : "")}{i}", slow: false, o.IncludeEvidence, run, o.Receipts)).ToList();
        // The slow client asks for evidence: a server that buffered its backlog would then grow by ~evidence size per case.
        if (slow) receivers.Add(new Receiver("bench-slow", slow: true, includeEvidence: true, run, o.Receipts));
        var fast = receivers.Where(r => !r.Slow).ToList();

        progress.Phase(name, o.Cases);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var loops = receivers.Select(r => Task.Run(() => ConsumeAsync(r, transport, store, server?.Address, o.AckEvery, o.SlowDelay, stop.Token), CancellationToken.None)).ToList();
        try
        {
            // Warm-up: every consumer subscribed and has received one case before the clock starts.
            await store.OpenAsync(run.Warmup(), ct);
            await Task.WhenAll(receivers.Select(r => r.WarmedUp.Task)).WaitAsync(WarmupTimeout, ct);
            foreach (var r in receivers.Where(r => r.Error is not null))
                throw new InvalidOperationException($"consumer {r.Name} failed before the run: {r.Error}");

            Settle();
            await using var memory = new MemorySampler();
            var cpu = ProcessUsage.SelfCpuSeconds();
            var start = Stopwatch.GetTimestamp();
            await Task.Run(() => ProduceAsync(store, run, o.Rate, start, n => progress.Progress(name, n, fast.Min(r => r.Received)), ct), ct);
            await WaitAllAsync(fast, o.Timeout, ct);
            var end = Stopwatch.GetTimestamp();
            var cpuPercent = (ProcessUsage.SelfCpuSeconds() - cpu) / Seconds(start, end) * 100;
            var slowBacklog = slow ? o.Cases - receivers.Single(r => r.Slow).Received : (int?)null;
            await memory.DisposeAsync();
            await StopAsync(stop, loops);
            var phase = Figures(phaseName, kind, live: true, o, run, receivers, store, start, end, commitOnlyRate, cpuPercent, memory, slowBacklog);
            results.Add(phase);
            progress.Done(name, $"{name}: {phase.ReceivedPerSecondPerConsumer:F0} cases/s per consumer, p99 {phase.LatencyMs?.P99:F1} ms, lost {phase.Lost}");

            if (!slow && replay)
                results.Add(await ReplayAsync(o, transport, kind, store, server?.Address, run, commitOnlyRate, progress, ct));
            return results;
        }
        finally
        {
            await StopAsync(stop, loops);
        }
    }

    /// <summary>N new consumers read the full store from sequence 0: the delivery path's capacity when commits do not pace it.</summary>
    private static async Task<PhaseFigures> ReplayAsync(FeedBenchOptions o, Transport transport, string kind, CaseStore store, string? address, Run run,
        double commitOnlyRate, IFeedBenchProgress progress, CancellationToken ct)
    {
        var name = $"{kind} replay ×{o.Consumers}";
        var receivers = Enumerable.Range(0, o.Consumers).Select(i => new Receiver($"replay-{i}", slow: false, o.IncludeEvidence, run, o.Receipts)).ToList();
        progress.Phase(name, o.Cases);
        Settle();
        await using var memory = new MemorySampler();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var cpu = ProcessUsage.SelfCpuSeconds();
        var start = Stopwatch.GetTimestamp();
        var loops = receivers.Select(r => Task.Run(() => ConsumeAsync(r, transport, store, address, o.AckEvery, TimeSpan.Zero, stop.Token), CancellationToken.None)).ToList();
        try
        {
            using (var ticker = new PeriodicTimer(TimeSpan.FromMilliseconds(200)))
            {
                var all = WaitAllAsync(receivers, o.Timeout, ct);
                while (!all.IsCompleted)
                {
                    await Task.WhenAny(all, ticker.WaitForNextTickAsync(ct).AsTask());
                    progress.Progress(name, receivers.Min(r => r.Received), receivers.Min(r => r.Received));
                }
                await all;
            }
            var end = Stopwatch.GetTimestamp();
            var cpuPercent = (ProcessUsage.SelfCpuSeconds() - cpu) / Seconds(start, end) * 100;
            await memory.DisposeAsync();
            await StopAsync(stop, loops);
            var phase = Figures(name, kind, live: false, o, run, receivers, store, start, end, commitOnlyRate, cpuPercent, memory, null);
            progress.Done(name, $"{name}: {phase.ReceivedPerSecondPerConsumer:F0} cases/s per consumer, lost {phase.Lost}");
            return phase;
        }
        finally
        {
            await StopAsync(stop, loops);
        }
    }

    /// <summary>Waits until every receiver has every case (or has failed), at most <paramref name="timeout"/>; a timeout is not an error, the missing cases are.</summary>
    private static async Task WaitAllAsync(IEnumerable<Receiver> receivers, TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            await Task.WhenAll(receivers.Select(r => r.Done.Task)).WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
        }
    }

    private static async Task StopAsync(CancellationTokenSource stop, List<Task> loops)
    {
        if (!stop.IsCancellationRequested) stop.Cancel();
        await Task.WhenAll(loops); // the loops swallow their own cancellation and record any other failure
    }

    private static async Task ProduceAsync(CaseStore store, Run run, double rate, long start, Action<int> progress, CancellationToken ct)
    {
        var freq = (double)Stopwatch.Frequency;
        for (var i = 0; i < run.Cases; i++)
        {
            if (rate > 0)
            {
                // An absolute schedule: a late commit is caught up on, never accumulates drift.
                var due = start + (long)(i * freq / rate);
                var wait = due - Stopwatch.GetTimestamp();
                if (wait > 0) await Task.Delay(TimeSpan.FromSeconds(wait / freq), ct);
            }
            var c = run.Make(i);
            var t0 = Stopwatch.GetTimestamp();
            var stored = await store.OpenAsync(c, ct);
            var t1 = Stopwatch.GetTimestamp();
            run.Committed(i, stored.Sequence, t0, t1);
            if ((i + 1) % 50 == 0 || i + 1 == run.Cases) progress(i + 1);
        }
    }

    private static async Task ConsumeAsync(Receiver r, Transport transport, CaseStore store, string? address, int ackEvery, TimeSpan slowDelay,
        CancellationToken ct)
    {
        try
        {
            if (transport == Transport.InProcess)
            {
                var since = 0;
                await foreach (var e in store.EventsAsync(0, r.IncludeEvidence, ct))
                {
                    var now = Stopwatch.GetTimestamp();
                    var completed = r.OnEvent(e.Sequence, e.Kind == CaseFeedKind.Opened ? e.Case.Id : null, now);
                    if (++since >= ackEvery || completed)
                    {
                        since = 0;
                        var t0 = Stopwatch.GetTimestamp();
                        await store.AckAsync(r.Name, e.Sequence, ct);
                        r.Acked(t0);
                    }
                    if (completed) r.Done.TrySetResult();
                }
            }
            else
            {
                using var channel = CaseFeedClient.CreateChannel(address!);
                var client = new CaseFeed.CaseFeedClient(channel);
                using var call = client.Subscribe(new SubscribeRequest { Consumer = r.Name, AfterSequence = 0, IncludeEvidence = r.IncludeEvidence },
                    cancellationToken: ct);
                var since = 0;
                while (await call.ResponseStream.MoveNext(ct))
                {
                    var now = Stopwatch.GetTimestamp();
                    var e = call.ResponseStream.Current;
                    var completed = r.OnEvent((long)e.Sequence, e.Kind == CaseEventKind.Opened ? e.Case.Id : null, now);
                    // The slow client: it takes this long over each event (its own processing), which is what it simulates.
                    if (r.Slow && slowDelay > TimeSpan.Zero) await Task.Delay(slowDelay, ct);
                    if (++since >= ackEvery || completed)
                    {
                        since = 0;
                        var t0 = Stopwatch.GetTimestamp();
                        await client.AckAsync(new AckRequest { Consumer = r.Name, Sequence = e.Sequence }, cancellationToken: ct);
                        r.Acked(t0);
                    }
                    if (completed) r.Done.TrySetResult();
                }
                r.Error ??= "the stream ended";
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            r.Error = $"{ex.GetType().Name}: {ex.Message}";
        }
        finally
        {
            // Never leave the bench waiting on a consumer that is gone: what it lacks is counted as lost.
            r.WarmedUp.TrySetResult();
            r.Done.TrySetResult();
        }
    }

    private static PhaseFigures Figures(string name, string kind, bool live, FeedBenchOptions o, Run run, List<Receiver> receivers, CaseStore store,
        long start, long end, double commitOnlyRate, double cpuPercent, MemorySampler memory, int? slowBacklog)
    {
        var fast = receivers.Where(r => !r.Slow).ToList();
        var consumers = receivers.Select(r =>
        {
            var latencies = live ? r.LatenciesMs(run) : null;
            var rate = r.Received > 0 ? r.Received / Seconds(start, r.LastReceipt) : 0;
            return new ConsumerFigures(r.Name, r.Slow, r.IncludeEvidence, r.Received, r.Events, r.Duplicates, r.OutOfOrder, o.Cases - r.Received,
                r.FirstSequence, r.LastSequence, store.CursorAsync(r.Name).GetAwaiter().GetResult(), r.AckCount, R2(rate),
                latencies is null ? null : Stats(latencies), r.Error, r.Ids, r.Sequences);
        }).ToList();
        var fastFigures = consumers.Where(c => !c.Slow).ToList();
        var perConsumer = fastFigures.Min(c => c.ReceivedPerSecond);
        var lost = Enumerable.Range(0, o.Cases).Count(i => fast.Any(r => !r.Has(i)));
        var commitSeconds = live ? Seconds(start, run.LastCommit) : double.NaN;
        var allLatencies = live ? fast.SelectMany(r => r.LatenciesMs(run)).ToArray() : null;
        var acks = fast.SelectMany(r => r.AckMs).ToArray();
        return new PhaseFigures(name, kind == "gRPC" ? "grpc" : "in-process", live, fast.Count, receivers.Count - fast.Count, o.Cases,
            R3(Seconds(start, end)), live ? R2(o.Cases / commitSeconds) : double.NaN, live ? Stats(run.CommitMs()) : null,
            perConsumer, R2(fastFigures.Average(c => c.ReceivedPerSecond)), R2(fastFigures.Sum(c => c.ReceivedPerSecond)),
            commitOnlyRate > 0 ? Math.Round(perConsumer / commitOnlyRate, 4) : double.NaN,
            allLatencies is null ? null : Stats(allLatencies), lost, fast.Sum(r => r.Duplicates), fast.Sum(r => r.OutOfOrder),
            acks.Length, Stats(acks), R1(cpuPercent), R1(memory.StartBytes / 1048576.0), R1(memory.PeakBytes / 1048576.0),
            R1(memory.PeakHeapBytes / 1048576.0), slowBacklog, consumers, o.Receipts ? run.CommittedList() : null)
        {
            RawLatencyMs = allLatencies ?? [],
            RawAckMs = acks,
        };
    }

    // ---------------------------------------------------------------- the cases

    /// <summary>The cases of one phase, their commit times and sequences.</summary>
    private sealed class Run
    {
        private static readonly DateTimeOffset T0 = new(2025, 3, 14, 8, 30, 0, TimeSpan.FromHours(8));
        private readonly byte[][] _evidence;
        private readonly string _tag = Guid.NewGuid().ToString("N")[..8];
        private readonly Dictionary<string, int> _index;
        private readonly long[] _committedAt;
        private readonly double[] _commitMs;
        private readonly long[] _sequence;

        public Run(int cases, byte[][] evidence)
        {
            Cases = cases;
            _evidence = evidence;
            _index = new Dictionary<string, int>(cases, StringComparer.Ordinal);
            for (var i = 0; i < cases; i++) _index[Id(i)] = i;
            _committedAt = new long[cases];
            _commitMs = new double[cases];
            _sequence = new long[cases];
            WarmupId = $"bench-{_tag}-warmup";
        }

        public int Cases { get; }
        public string WarmupId { get; }
        public long LastCommit { get; private set; }

        private string Id(int i) => $"bench-{_tag}-{i:D6}";

        public bool TryIndex(string id, out int i) => _index.TryGetValue(id, out i);

        public DomainCase Warmup() => Make(0) with { Id = WarmupId };

        /// <summary>A realistic case: every routing field set, JPEG-like evidence of the configured size.</summary>
        public DomainCase Make(int n) => new()
        {
            Id = Id(n),
            CaseType = "illegal_parking",
            CameraId = $"cam-{n % 16:D2}",
            GroupId = "xuhui-tianlin",
            CaseTypeCode = "0302",
            CaseTypeNameZh = "机动车乱停放",
            CaseTypeNameEn = "Illegally parked motor vehicle",
            District = "徐汇区",
            Street = "田林街道",
            Grid = $"310104-{n % 1000:D3}",
            ResponsibleUnit = "田林街道城管中队",
            Zone = "no-parking-east",
            Latitude = 31.1712 + n % 100 * 1e-4,
            Longitude = 121.4303 - n % 100 * 1e-4,
            FirstSeen = T0.AddSeconds(n),
            LastSeen = T0.AddSeconds(n + 90),
            RaisedAt = T0.AddSeconds(n + 60),
            Confidence = 0.5f + n % 40 / 100f,
            Box = new CitySight.Domain.Box(10.5f + n % 500, 20.25f, 300.75f + n % 500, 400f),
            ImageWidth = 1920,
            ImageHeight = 1080,
            ClassName = "car",
            Evidence = _evidence[n % _evidence.Length],
        };

        public void Committed(int i, long sequence, long before, long after)
        {
            _sequence[i] = sequence;
            _committedAt[i] = after;
            _commitMs[i] = Stopwatch.GetElapsedTime(before, after).TotalMilliseconds;
            LastCommit = after;
        }

        public long CommittedAt(int i) => _committedAt[i];

        public double[] CommitMs() => (double[])_commitMs.Clone();

        public List<CommittedCase> CommittedList() => Enumerable.Range(0, Cases).Select(i => new CommittedCase(Id(i), _sequence[i])).ToList();
    }

    /// <summary>One consumer's receipts. Written only by its own loop; read by the bench once the loop has stopped.</summary>
    private sealed class Receiver(string name, bool slow, bool includeEvidence, Run run, bool keepReceipts)
    {
        private readonly long[] _receivedAt = new long[run.Cases];
        private readonly List<double> _ackMs = [];
        private int _received;

        public string Name { get; } = name;
        public bool Slow { get; } = slow;
        public bool IncludeEvidence { get; } = includeEvidence;
        public TaskCompletionSource WarmedUp { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Received => Volatile.Read(ref _received);
        public long Events { get; private set; }
        public int Duplicates { get; private set; }
        public int OutOfOrder { get; private set; }
        public long FirstSequence { get; private set; }
        public long LastSequence { get; private set; }
        public long LastReceipt { get; private set; }
        public string? Error { get; set; }
        public List<string>? Ids { get; } = keepReceipts ? [] : null;
        public List<long>? Sequences { get; } = keepReceipts ? [] : null;
        public int AckCount => _ackMs.Count;
        public IReadOnlyList<double> AckMs => _ackMs;

        /// <summary>Records one event; true when this one completes the set.</summary>
        public bool OnEvent(long sequence, string? caseId, long now)
        {
            Events++;
            if (sequence <= LastSequence) OutOfOrder++;
            if (FirstSequence == 0) FirstSequence = sequence;
            LastSequence = Math.Max(LastSequence, sequence);
            if (caseId is null) return false;
            if (caseId == run.WarmupId)
            {
                WarmedUp.TrySetResult();
                return false;
            }
            if (!run.TryIndex(caseId, out var i)) return false;
            Ids?.Add(caseId);
            Sequences?.Add(sequence);
            if (_receivedAt[i] != 0)
            {
                Duplicates++;
                return false;
            }
            _receivedAt[i] = now;
            LastReceipt = now;
            return Interlocked.Increment(ref _received) == run.Cases;
        }

        public void Acked(long started) => _ackMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);

        public bool Has(int i) => _receivedAt[i] != 0;

        /// <summary>Commit (OpenAsync returned) to receipt, ms, for every case received.</summary>
        public double[] LatenciesMs(Run r)
        {
            var list = new List<double>(run.Cases);
            for (var i = 0; i < run.Cases; i++)
                if (_receivedAt[i] != 0) list.Add(Stopwatch.GetElapsedTime(r.CommittedAt(i), _receivedAt[i]).TotalMilliseconds);
            return list.ToArray();
        }
    }

    /// <summary>SOI + APP0 marker, seeded pseudo-random body, EOI: shaped like a JPEG; the store never decodes it.</summary>
    private static byte[] Jpeg(int seed, int length)
    {
        var bytes = new byte[Math.Max(length, 8)];
        new Random(seed).NextBytes(bytes);
        bytes[0] = 0xFF; bytes[1] = 0xD8; bytes[2] = 0xFF; bytes[3] = 0xE0;
        bytes[^2] = 0xFF; bytes[^1] = 0xD9;
        return bytes;
    }

    // ---------------------------------------------------------------- the server


    // ---------------------------------------------------------------- measuring

    /// <summary>Peak resident set and managed heap of this process, sampled every 20 ms while alive.</summary>
    private sealed class MemorySampler : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private long _peak, _peakHeap;
        private int _disposed;

        public MemorySampler()
        {
            StartBytes = ProcessUsage.RssBytes(ProcessUsage.Self);
            Sample();
            _loop = Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
                try
                {
                    while (await timer.WaitForNextTickAsync(_stop.Token)) Sample();
                }
                catch (OperationCanceledException) { }
            });
        }

        public long StartBytes { get; }
        public long PeakBytes => Interlocked.Read(ref _peak);
        public long PeakHeapBytes => Interlocked.Read(ref _peakHeap);

        private void Sample()
        {
            var rss = ProcessUsage.RssBytes(ProcessUsage.Self);
            if (rss == 0) rss = Environment.WorkingSet; // not Linux
            if (rss > _peak) Interlocked.Exchange(ref _peak, rss);
            var heap = GC.GetTotalMemory(false);
            if (heap > _peakHeap) Interlocked.Exchange(ref _peakHeap, heap);
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            Sample();
            _stop.Cancel();
            await _loop;
            _stop.Dispose();
        }
    }

    /// <summary>Each phase starts from a collected heap, so one phase's garbage does not count against the next.</summary>
    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static double Seconds(long from, long to) => Math.Max(Stopwatch.GetElapsedTime(from, to).TotalSeconds, 1e-9);

    public static LatencyFigures? Stats(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) return null;
        var sorted = values.Order().ToArray();
        return new LatencyFigures(sorted.Length, R3(Percentile(sorted, 0.50)), R3(Percentile(sorted, 0.95)), R3(Percentile(sorted, 0.99)),
            R3(sorted[^1]), R3(sorted.Average()));
    }

    /// <summary>Nearest rank: the smallest value with at least q of the values at or below it.</summary>
    private static double Percentile(double[] sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double R1(double v) => Math.Round(v, 1);
    private static double R2(double v) => Math.Round(v, 2);
    private static double R3(double v) => Math.Round(v, 3);

    /// <summary>VmHWM: the highest resident set this process has had.</summary>
    private static long PeakRssBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return Process.GetCurrentProcess().PeakWorkingSet64;
    }

    public static string Device()
    {
        var model = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is var c and > 0)
                {
                    model = line[(c + 1)..].Trim();
                    break;
                }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return $"CPU: {model}, {Environment.ProcessorCount} cores";
    }

    /// <summary>The file system the stores live on ("ext4 on /dev/vda1 at /"): fsync's cost depends on it.</summary>
    public static string FileSystemOf(string path)
    {
        try
        {
            string? best = null, type = null, device = null;
            foreach (var line in File.ReadLines("/proc/mounts"))
            {
                var f = line.Split(' ');
                if (f.Length < 3) continue;
                var mount = f[1].Replace("\\040", " ");
                var under = mount == "/" || path == mount || path.StartsWith(mount.TrimEnd('/') + "/", StringComparison.Ordinal);
                if (under && (best is null || mount.Length >= best.Length)) (best, device, type) = (mount, f[0], f[2]);
            }
            return best is null ? "unknown" : $"{type} on {device} at {best}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }
    }
}
