using CitySight.Delivery.Push;
using System.Collections.Concurrent;
using CitySight.Cases;
using CitySight.Configuration;
using CitySight.Delivery.V1;
using CitySight.Domain;
using CitySight.Service;
using CitySight.Tests;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CitySight.EndToEnd.Tests;

/// <summary>
/// Push mode through the real service host: a file camera plays once through the real model and rules into the case
/// store, and the host's <c>DispatchPushClient</c> (configured by <c>delivery.push</c>, its API key read from an
/// environment variable) streams every committed event to a real Kestrel DispatchIntake, whose receipts move the
/// "dispatch-push" outbox cursor to the head of the store.
/// </summary>
public sealed class PushEndToEndTests
{
    [Fact]
    public async Task Every_case_event_of_a_file_played_through_the_host_reaches_dispatch_with_the_key_and_the_cursor_reaches_the_head()
    {
        var dir = TestAssets.TempDir("push-e2e");
        var keyEnv = $"CITYSIGHT_TEST_PUSH_KEY_{Guid.NewGuid():N}";
        var apiKey = $"push-e2e-key-{Guid.NewGuid():N}";   // 45 characters, unique to this run
        var intake = new IntakeLog();
        // The dispatch side: a real Kestrel hosting the intake (pictures make big messages).
        await using var dispatch = await CitySight.Delivery.LoopbackGrpcServer.StartAsync(
            services => services.AddSingleton(intake).AddGrpc(o => o.MaxReceiveMessageSize = 16 * 1024 * 1024),
            app => app.MapGrpcService<Intake>());

        var camera = new Camera
        {
            Id = "lot-push",
            Name = "Parking lot (file, push)",
            GroupId = "push",
            Url = TestAssets.Media("parking-lot-cctv-640x480.mp4"),
            SampleInterval = TimeSpan.FromSeconds(0.5),
            Detectors = ["illegal_parking"],
            RealTime = false,
        };
        var config = new CitySightConfig
        {
            SourceFile = "push-e2e",
            Service = new ServiceSettings { GrpcPort = TestPorts.Free(), HttpPort = TestPorts.Free(), DataDir = Path.Combine(dir, "data") },
            Models = new ModelSettings
            {
                Manifest = Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml"),
                SearchPaths = [Path.Combine(TestAssets.Root, "models")],
            },
            Rules = TestRules.Quick,
            Groups = [new CameraGroup { Id = "push", Name = "push", Cameras = [camera] }],
            Delivery = new DeliverySettings
            {
                Push = new DispatchPushOptions { Endpoint = new Uri(dispatch.Address), Consumer = "dispatch-push", ApiKeyEnv = keyEnv },
            },
        };

        var logs = new CapturingLogger();
        Environment.SetEnvironmentVariable(keyEnv, apiKey);
        try
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            await using var app = CitySightHost.Build(config, logging => logging
                .AddProvider(logs)
                .AddFilter<CapturingLogger>(null, LogLevel.Trace));   // every category, every level: the key must be in none
            await app.StartAsync();
            var summary = "";
            try
            {
                var store = app.Services.GetRequiredService<ICaseStore>();
                var caseStage = app.Services.GetServices<IHostedService>().OfType<CitySight.Rules.CaseRaisingWorker>().Single();

                // The file ends, the pipeline drains (the case stage finishes last), and push catches up with the head.
                string State() =>
                    $"case stage {caseStage.ExecuteTask?.Status}, store head {store.LastSequence}, dispatch took up to {intake.HighestSequence} " +
                    $"({intake.Taken.Count} event(s) on {intake.Calls.Count} call(s)), cursor {store.CursorAsync("dispatch-push").GetAwaiter().GetResult()}";
                try
                {
                    await Wait.UntilAsync(() =>
                            caseStage.ExecuteTask is { IsCompleted: true }
                            && store.LastSequence > 0
                            && intake.HighestSequence >= store.LastSequence
                            && store.CursorAsync("dispatch-push").GetAwaiter().GetResult() == store.LastSequence,
                        TimeSpan.FromSeconds(120),
                        "the file to end, dispatch to take every event and the dispatch-push cursor to reach the store's head");
                }
                catch (TimeoutException e)
                {
                    throw new TimeoutException($"{e.Message} ({State()})", e);
                }
                Assert.True(caseStage.ExecuteTask!.IsCompletedSuccessfully, $"case stage ended {caseStage.ExecuteTask.Status}: {caseStage.ExecuteTask.Exception}");

                var head = store.LastSequence;
                var stored = new List<CaseFeedEvent>();
                using (var read = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
                    await foreach (var e in store.EventsAsync(0, includeEvidence: false, read.Token))
                    {
                        stored.Add(e);
                        if (e.Sequence >= head) break;
                    }
                var cases = await store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true);
                var taken = intake.Taken;
                var calls = intake.Calls;

                Assert.NotEmpty(cases);
                Assert.Contains(stored, e => e.Kind == CaseFeedKind.Opened);
                // Every event the store holds arrived, with its case, and nothing that is not in the store did.
                var takenBySequence = taken.GroupBy(t => t.Sequence).ToDictionary(g => g.Key, g => g.First());
                Assert.Equal(stored.Select(e => e.Sequence), takenBySequence.Keys.Order());
                foreach (var e in stored)
                {
                    Assert.Equal(e.Case.Id, takenBySequence[e.Sequence].CaseId);
                    Assert.Equal(KindOf(e.Kind), takenBySequence[e.Sequence].Kind);
                }
                // Every case the store opened arrived as an "opened" event.
                var openedIds = taken.Where(t => t.Kind == CaseEventKind.Opened).Select(t => t.CaseId).ToHashSet();
                Assert.All(cases, c => Assert.Contains(c.Id, openedIds));
                // In increasing sequence on each call (a healthy dispatch: one call, nothing sent twice).
                foreach (var call in taken.GroupBy(t => t.Call))
                    Assert.True(call.Select(t => t.Sequence).Zip(call.Select(t => t.Sequence).Skip(1)).All(p => p.First < p.Second),
                        $"call {call.Key}: sequences not increasing: {string.Join(",", call.Select(t => t.Sequence))}");
                Assert.Single(calls);
                Assert.Equal(stored.Count, taken.Count);
                Assert.All(taken.Where(t => t.Kind == CaseEventKind.Opened), t => Assert.False(t.Evidence == 0, $"case {t.CaseId} arrived without evidence"));
                // The key from the environment variable, on every call.
                Assert.All(calls, key => Assert.Equal(apiKey, key));
                Assert.Equal(head, await store.CursorAsync("dispatch-push"));
                summary = $"{cases.Count} case(s), {stored.Count} event(s) up to sequence {head}, {calls.Count} call(s)";
            }
            finally
            {
                await app.StopAsync();
            }

            // No log line, from any category at any level, ever held the key.
            var lines = logs.Lines;
            Assert.Contains(lines, l => l.Contains("Push: connected to", StringComparison.Ordinal));
            Assert.DoesNotContain(lines, l => l.Contains(apiKey, StringComparison.Ordinal));
            Assert.DoesNotContain(lines, l => l.Contains(apiKey[..20], StringComparison.Ordinal));
            Console.WriteLine($"push e2e: {summary}, {lines.Count} log line(s), {started.Elapsed.TotalSeconds:F1} s");
        }
        finally
        {
            Environment.SetEnvironmentVariable(keyEnv, null);
        }
    }

    private static CaseEventKind KindOf(CaseFeedKind kind) => kind switch
    {
        CaseFeedKind.Opened => CaseEventKind.Opened,
        CaseFeedKind.Updated => CaseEventKind.Updated,
        CaseFeedKind.StateChanged => CaseEventKind.StateChanged,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>One event as the test dispatch took it: on which call (1, 2, …), its sequence, kind, case and evidence size.</summary>
    private sealed record Taken(int Call, long Sequence, CaseEventKind Kind, string CaseId, int Evidence);

    /// <summary>What the test dispatch saw: events, and each Deliver call's x-api-key.</summary>
    private sealed class IntakeLog
    {
        private readonly ConcurrentQueue<Taken> _taken = new();
        private readonly ConcurrentQueue<string?> _calls = new();
        private int _callCount;
        private long _highest;

        public IReadOnlyList<Taken> Taken => _taken.ToArray();
        public IReadOnlyList<string?> Calls => _calls.ToArray();
        public long HighestSequence => Interlocked.Read(ref _highest);

        public int NewCall(string? apiKey)
        {
            _calls.Enqueue(apiKey);
            return Interlocked.Increment(ref _callCount);
        }

        public void Add(Taken t)
        {
            _taken.Enqueue(t);
            long seen;
            while ((seen = Interlocked.Read(ref _highest)) < t.Sequence && Interlocked.CompareExchange(ref _highest, t.Sequence, seen) != seen) { }
        }
    }

    /// <summary>The dispatch side of DispatchIntake: takes every event and receipts it, as a district would host it.</summary>
    private sealed class Intake(IntakeLog log, IHostApplicationLifetime life) : DispatchIntake.DispatchIntakeBase
    {
        public override async Task Deliver(IAsyncStreamReader<CaseEvent> requestStream, IServerStreamWriter<Receipt> responseStream, ServerCallContext context)
        {
            var call = log.NewCall(context.RequestHeaders.GetValue("x-api-key"));
            await context.WriteResponseHeadersAsync(new Metadata());
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, life.ApplicationStopping);
            try
            {
                while (await requestStream.MoveNext(stop.Token))
                {
                    var e = requestStream.Current;
                    log.Add(new Taken(call, (long)e.Sequence, e.Kind, e.Case.Id, e.Case.EvidenceJpeg.Length));
                    await responseStream.WriteAsync(new Receipt { Sequence = e.Sequence, CaseId = e.Case.Id }, stop.Token);
                }
            }
            catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "dispatch is going away"));
            }
        }
    }
}
