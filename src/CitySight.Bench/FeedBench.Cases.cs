using System.Diagnostics;
using DomainCase = CitySight.Domain.Case;

namespace CitySight.Bench;

internal static partial class FeedBench
{
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
}
