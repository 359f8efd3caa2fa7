using System.Diagnostics;
using CitySight.Inference;

namespace CitySight.Bench;

internal static partial class InferenceBench
{
    /// <summary>
    /// Measurement state, advanced by the consumer on each frame out of the stage: warm-up → measuring (a round) → idle
    /// (paused, draining) → refilling → measuring … Latencies go into a pre-sized array.
    /// </summary>
    private sealed class PipelineWindow(BatchingDetector detector, int warmup, TimeSpan warmupTime, int refill, int frames, bool hasDecoders)
    {
        private const int WarmingUp = 0, Refilling = 1, Measuring = 2, Idle = 3;

        public readonly double[] Latencies = new double[frames];
        private readonly CpuMeter _decoders = new(() => hasDecoders ? ProcessUsage.Children(ProcessUsage.Self, "ffmpeg") : []);
        private int _state = Idle;
        private int _target;
        private int _skip;
        private TaskCompletionSource<bool>? _roundDone;
        private long _seen;
        private long _lastFrame = Stopwatch.GetTimestamp();
        private long _firstFrame;
        private int _measured;
        private int _warmupDone = -1;
        private long _segmentStart, _runs0, _frames0;
        private double _cpu0;
        private long _runs, _framesRun;
        private volatile bool _paused;

        public long Seen => Interlocked.Read(ref _seen);
        public long LastFrame => Interlocked.Read(ref _lastFrame);
        public int Measured => Volatile.Read(ref _measured);

        /// <summary>Frames skipped before measuring; -1 while still warming up.</summary>
        public int WarmupDone => Volatile.Read(ref _warmupDone);

        /// <summary>Measured seconds over every round, and the last round's alone.</summary>
        public double Seconds { get; private set; }
        public double LastSegmentSeconds { get; private set; }

        /// <summary>CPU seconds of this process and its decoders during the measured rounds.</summary>
        public double CpuSeconds { get; private set; }

        /// <summary>No frames are let in: the stall watch rests.</summary>
        public bool Paused
        {
            get => _paused;
            set
            {
                if (!value) Interlocked.Exchange(ref _lastFrame, Stopwatch.GetTimestamp());
                _paused = value;
            }
        }

        public double MeanBatchFill(int capacity) => _runs > 0 ? (double)_framesRun / _runs / capacity : double.NaN;

        /// <summary>Starts the next round: measure until <paramref name="target"/> frames are measured in all. True when it got there.</summary>
        public Task<bool> Arm(int target, bool first)
        {
            _target = target;
            _skip = refill;
            var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _roundDone, done);
            Volatile.Write(ref _state, first ? WarmingUp : Refilling);
            return done.Task;
        }

        public void OnFrame(TimeSpan latency)
        {
            var n = _seen;
            var now = Stopwatch.GetTimestamp();
            Interlocked.Exchange(ref _seen, n + 1);
            Interlocked.Exchange(ref _lastFrame, now);
            if (n == 0) _firstFrame = now;
            switch (Volatile.Read(ref _state))
            {
                case WarmingUp:
                    if (n + 1 < warmup || Stopwatch.GetElapsedTime(_firstFrame, now) < warmupTime) return;
                    Volatile.Write(ref _warmupDone, (int)(n + 1));
                    Begin();
                    return;
                case Refilling:
                    if (--_skip > 0) return;
                    Begin();
                    return;
                case Measuring:
                    var k = _measured;
                    Latencies[k] = latency.TotalMilliseconds;
                    Volatile.Write(ref _measured, k + 1);
                    if (k + 1 >= _target) End();
                    return;
            }
        }

        /// <summary>The stage's output completed: a round still open will not finish.</summary>
        public void Ended() => Volatile.Read(ref _roundDone)?.TrySetResult(false);

        private void Begin()
        {
            _runs0 = detector.Runs;
            _frames0 = detector.Frames;
            _cpu0 = ProcessUsage.SelfCpuSeconds();
            lock (_decoders) _decoders.Reset();
            _segmentStart = Stopwatch.GetTimestamp();
            Volatile.Write(ref _state, Measuring);
        }

        private void End()
        {
            var seconds = Stopwatch.GetElapsedTime(_segmentStart).TotalSeconds;
            _runs += detector.Runs - _runs0;
            _framesRun += detector.Frames - _frames0;
            double decoders;
            lock (_decoders)
            {
                _decoders.Sample();
                decoders = _decoders.Seconds;
            }
            CpuSeconds += ProcessUsage.SelfCpuSeconds() - _cpu0 + decoders;
            Seconds += seconds;
            LastSegmentSeconds = seconds;
            Volatile.Write(ref _state, Idle);
            Volatile.Read(ref _roundDone)!.TrySetResult(true);
        }

        /// <summary>Counts decoders that restarted inside a round (call now and then).</summary>
        public void SampleDecoders()
        {
            if (!hasDecoders || Volatile.Read(ref _state) != Measuring) return;
            lock (_decoders) _decoders.Sample();
        }
    }
}
