using System.Diagnostics;
using CitySight.Cases.Sqlite;
using CitySight.Delivery;
using CitySight.Delivery.V1;
using Grpc.Core;
using Grpc.Net.Client;

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
    /// a few clients acking as fast as the server answers. Subscribers and clients run in this process too: the memory
    /// per subscriber is both ends of a stream.
    /// </summary>
    public static async Task<FeedLoadResult> RunLoadAsync(FeedBenchOptions o, IFeedBenchProgress progress, CancellationToken ct)
    {
        var root = RootOf(o);
        Directory.CreateDirectory(root);
        var total = Stopwatch.StartNew();
        var rate = o.Rate > 0 ? o.Rate : DefaultLoadRate;
        var evidence = Enumerable.Range(0, 32).Select(i => Jpeg(i, o.EvidenceBytes)).ToArray();
        try
        {
            using var store = new SqliteCaseStore(Path.Combine(root, "load"));
            var limits = new SubscriberLimits { Total = o.IdleSubscribers + o.AckFloodClients + 16 };
            await using var server = await LoopbackGrpcServer.CaseFeedAsync(store, subscribers: limits);

            // Warm-up: the commit path and the JIT, before anything is timed.
            await ProduceAsync(store, new Run(20, evidence), 0, Stopwatch.GetTimestamp(), _ => { }, ct);

            var quiet = new Run(o.Cases, evidence);
            var quietCpu = await TimedCommitsAsync("quiet: no subscriber", store, quiet, rate, progress, ct);

            // Idle subscribers: open them all, then one commit that every one of them must receive before the clock starts.
            Settle();
            var heap0 = GC.GetTotalMemory(true);
            var rss0 = ProcessUsage.RssBytes(ProcessUsage.Self);
            var subscribeStart = Stopwatch.GetTimestamp();
            var channels = Enumerable.Range(0, (o.IdleSubscribers + StreamsPerChannel - 1) / StreamsPerChannel)
                .Select(_ => CaseFeedClient.CreateChannel(server.Address)).ToList();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var after = store.LastSequence;
            var idle = Enumerable.Range(0, o.IdleSubscribers).Select(i => new IdleSubscriber($"idle-{i:D5}", after + 1)).ToList();
            var loops = idle.Select((s, i) => Task.Run(() => s.RunAsync(channels[i / StreamsPerChannel], after, stop.Token), CancellationToken.None)).ToList();
            try
            {
                progress.Phase($"subscribing ×{o.IdleSubscribers}", 1);
                await store.OpenAsync(new Run(1, evidence).Make(0), ct);
                await Task.WhenAll(idle.Select(s => s.Ready.Task)).WaitAsync(o.Timeout, ct);
                var subscribeSeconds = Stopwatch.GetElapsedTime(subscribeStart).TotalSeconds;
                progress.Done($"subscribing ×{o.IdleSubscribers}", $"{o.IdleSubscribers} subscribers open in {subscribeSeconds:F1} s");
                Settle();
                var heap1 = GC.GetTotalMemory(true);
                var rss1 = ProcessUsage.RssBytes(ProcessUsage.Self);

                var loaded = new Run(o.Cases, evidence);
                var first = store.LastSequence + 1;
                foreach (var s in idle) s.Expect(first, o.Cases);
                var flood = o.AckFlood ? new AckFlood(server.Address, o.AckFloodClients, store) : null;
                var commitsBefore = store.AckCommits;
                var floodStart = Stopwatch.GetTimestamp();
                using var floodStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
                flood?.Start(floodStop.Token);
                var loadedCpu = await TimedCommitsAsync($"loaded: {o.IdleSubscribers} idle" + (flood is null ? "" : " + ack flood"), store, loaded, rate, progress, ct);
                var ackSeconds = Stopwatch.GetElapsedTime(floodStart).TotalSeconds;
                if (flood is not null) await flood.StopAsync(floodStop);
                var ackCommits = store.AckCommits - commitsBefore;
                try
                {
                    await Task.WhenAll(idle.Select(s => s.Done.Task)).WaitAsync(o.Timeout, ct);
                }
                catch (TimeoutException)
                {
                    // what did not arrive is counted as lost below
                }

                var quietMs = Stats(quiet.CommitMs());
                var loadedMs = Stats(loaded.CommitMs());
                double? ratio = quietMs is { P99: > 0 } q && loadedMs is { } l ? R2(l.P99 / q.P99) : null;
                var failed = idle.Where(s => s.Error is not null).ToList();
                return new FeedLoadResult(Device(), Environment.ProcessorCount, root, FileSystemOf(root), o.Cases, rate, o.EvidenceBytes,
                    o.IdleSubscribers, channels.Count, flood?.Clients ?? 0, FloodInFlight, quietMs, loadedMs, ratio, LoadGoalRatio,
                    ratio is { } r ? r <= LoadGoalRatio : null, R1(quietCpu), R1(loadedCpu),
                    flood?.Acks ?? 0, flood is null ? 0 : R1(flood.Acks / ackSeconds), ackCommits, flood is null ? null : Stats(flood.AckMs()), flood?.Error,
                    R2(subscribeSeconds), R1((heap1 - heap0) / (double)o.IdleSubscribers), R1((rss1 - rss0) / (double)o.IdleSubscribers),
                    R1(heap0 / 1048576.0), R1(heap1 / 1048576.0), R1(rss0 / 1048576.0), R1(rss1 / 1048576.0),
                    failed.Count, failed.FirstOrDefault()?.Error, idle.Sum(s => (long)s.Missing), idle.Sum(s => (long)s.Duplicates),
                    R2(total.Elapsed.TotalSeconds));
            }
            finally
            {
                await stop.CancelAsync();
                await Task.WhenAll(loops);
                foreach (var c in channels) c.Dispose();
            }
        }
        catch when (o.DataFolder is null && !o.Keep)
        {
            RemoveStores(o, root);
            throw;
        }
    }

    /// <summary>Commits <paramref name="run"/> at <paramref name="rate"/>; this process's CPU use meanwhile, percent of one core.</summary>
    private static async Task<double> TimedCommitsAsync(string name, SqliteCaseStore store, Run run, double rate, IFeedBenchProgress progress,
        CancellationToken ct)
    {
        progress.Phase(name, run.Cases);
        var cpu = ProcessUsage.SelfCpuSeconds();
        var start = Stopwatch.GetTimestamp();
        await Task.Run(() => ProduceAsync(store, run, rate, start, n => progress.Progress(name, n, n), ct), ct);
        var percent = (ProcessUsage.SelfCpuSeconds() - cpu) / Seconds(start, Stopwatch.GetTimestamp()) * 100;
        var ms = Stats(run.CommitMs());
        progress.Done(name, $"{name}: commit p50 {ms?.P50:F2} ms, p99 {ms?.P99:F2} ms");
        return percent;
    }

    /// <summary>A subscriber that only listens: counts what it gets of the loaded phase's sequences, and any repeat.</summary>
    private sealed class IdleSubscriber(string name, long readySequence)
    {
        private long _first = long.MaxValue, _last;
        private int _expected, _received;

        public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Duplicates { get; private set; }
        public int Missing => Math.Max(Volatile.Read(ref _expected) - Volatile.Read(ref _received), 0);
        public string? Error { get; private set; }

        /// <summary>Set before the loaded phase commits its first case: sequences first .. first + count - 1 are due.</summary>
        public void Expect(long first, int count)
        {
            Volatile.Write(ref _first, first);
            Volatile.Write(ref _expected, count);
        }

        public async Task RunAsync(GrpcChannel channel, long after, CancellationToken ct)
        {
            try
            {
                var client = new CaseFeed.CaseFeedClient(channel);
                using var call = client.Subscribe(new SubscribeRequest { Consumer = name, AfterSequence = (ulong)after }, cancellationToken: ct);
                while (await call.ResponseStream.MoveNext(ct))
                {
                    var seq = (long)call.ResponseStream.Current.Sequence;
                    if (seq <= _last)
                    {
                        Duplicates++; // a repeat, or an event out of order
                        continue;
                    }
                    _last = seq;
                    if (seq == readySequence) Ready.TrySetResult();
                    var first = Volatile.Read(ref _first);
                    if (seq >= first && seq < first + Volatile.Read(ref _expected) && Interlocked.Increment(ref _received) == _expected)
                        Done.TrySetResult();
                }
                Error ??= "the stream ended";
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                Error = $"{ex.GetType().Name}: {ex.Message}";
            }
            finally
            {
                Ready.TrySetResult();
                Done.TrySetResult();
            }
        }
    }
}
