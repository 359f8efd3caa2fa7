using System.Diagnostics;
using CitySight.Domain;
using CitySight.Inference;

namespace CitySight.Bench;

internal static partial class InferenceBench
{
    /// <summary>
    /// The baseline: sessions with the pipeline's options, inputs filled once from real frames, each run on its own thread
    /// in a loop of <see cref="OnnxDetector.RunPrepared"/>, one segment per round.
    /// </summary>
    private sealed class BareRunner : IDisposable
    {
        private readonly OnnxDetector[] _sessions;
        private readonly int _capacity;

        public BareRunner(BenchSettings s, DetectorOptions options, int sessions, int capacity)
        {
            _capacity = capacity;
            _sessions = new OnnxDetector[sessions];
            try
            {
                var results = new IReadOnlyList<Detection>[capacity];
                var samples = s.Source.Samples;
                for (var i = 0; i < sessions; i++)
                {
                    var d = _sessions[i] = new OnnxDetector(s.Spec, s.ModelPath, options);
                    if (d.BatchCapacity != capacity)
                        throw new InvalidOperationException($"a bare session takes {d.BatchCapacity} frames per run, the pipeline's {capacity}");
                    var frames = Enumerable.Range(0, capacity).Select(k => samples[(k + i * capacity) % samples.Length]).ToArray();
                    d.Detect(frames, results); // fills the input slots with real letterboxed frames
                    d.RunPrepared(capacity);   // and warms the session
                    d.RunPrepared(capacity);
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public long Images { get; private set; }
        public double Seconds { get; private set; }
        public double CpuSeconds { get; private set; }

        /// <summary>Runs every session for about <paramref name="duration"/> and at least <paramref name="minImages"/> images.</summary>
        public void Segment(TimeSpan duration, int minImages, Action<double> progress, CancellationToken ct)
        {
            var counts = new long[_sessions.Length];
            var stop = 0;
            using var go = new ManualResetEventSlim(false);
            var threads = new Thread[_sessions.Length];
            for (var i = 0; i < _sessions.Length; i++)
            {
                var d = _sessions[i];
                var slot = i;
                threads[i] = new Thread(() =>
                {
                    go.Wait();
                    while (Volatile.Read(ref stop) == 0)
                    {
                        d.RunPrepared(_capacity);
                        Interlocked.Add(ref counts[slot], _capacity);
                    }
                }) { IsBackground = true, Name = $"bench-bare-{i}" };
                threads[i].Start();
            }

            var cpu0 = ProcessUsage.SelfCpuSeconds();
            var clock = Stopwatch.StartNew();
            go.Set();
            while (true)
            {
                Thread.Sleep(10);
                long images = 0;
                for (var i = 0; i < counts.Length; i++) images += Interlocked.Read(ref counts[i]);
                var elapsed = clock.Elapsed;
                progress(Math.Clamp(elapsed / duration, 0, 1));
                if ((elapsed >= duration && images >= minImages) || ct.IsCancellationRequested) break;
            }
            Volatile.Write(ref stop, 1);
            foreach (var t in threads) t.Join();
            // Every image counted was done inside [start, last join].
            var seconds = clock.Elapsed.TotalSeconds;
            CpuSeconds += ProcessUsage.SelfCpuSeconds() - cpu0;
            ct.ThrowIfCancellationRequested();
            Images += counts.Sum();
            Seconds += seconds;
            progress(1);
        }

        public void Dispose()
        {
            foreach (var d in _sessions) d?.Dispose();
        }
    }
}
