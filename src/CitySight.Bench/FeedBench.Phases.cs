using System.Diagnostics;
using CitySight.Cases;
using CitySight.Cases.Sqlite;
using CitySight.Delivery;
using CitySight.Delivery.V1;
using Grpc.Core;

namespace CitySight.Bench;

internal static partial class FeedBench
{
    // ---------------------------------------------------------------- commit only

    private static async Task<PhaseFigures> CommitOnlyAsync(FeedBenchOptions o, string phaseName, string tag, string folder, byte[][] evidence,
        IFeedBenchProgress progress, CancellationToken ct)
    {
        var name = phaseName + tag; // the progress bar's name
        using var store = new SqliteCaseStore(folder);
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
        using var store = new SqliteCaseStore(folder);
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
    private static async Task<PhaseFigures> ReplayAsync(FeedBenchOptions o, Transport transport, string kind, SqliteCaseStore store, string? address, Run run,
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

    private static async Task ProduceAsync(SqliteCaseStore store, Run run, double rate, long start, Action<int> progress, CancellationToken ct)
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
            // Until the case was durable and on the feed, stamped by the store's writer: when this loop resumes on the
            // pool after that is the bench's own scheduling, not the commit's.
            var t1 = store.LastOpenCommittedAt;
            run.Committed(i, stored.Sequence, t0, t1);
            if ((i + 1) % 50 == 0 || i + 1 == run.Cases) progress(i + 1);
        }
    }

    private static async Task ConsumeAsync(Receiver r, Transport transport, SqliteCaseStore store, string? address, int ackEvery, TimeSpan slowDelay,
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

    private static PhaseFigures Figures(string name, string kind, bool live, FeedBenchOptions o, Run run, List<Receiver> receivers, SqliteCaseStore store,
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
}
