using System.Diagnostics;
using System.Text.RegularExpressions;
using CitySight.Domain;
using CitySight.Imaging;
using CitySight.Inference;
using CitySight.Inference.StaticObjects;
using CitySight.Ingest;

// One pipeline stage run many thousands of times on real frames, sampling resident, managed and GC-committed memory, so a
// native leak can be pinned to a stage (issue 14). Usage: StageLoop STAGE [--iterations N] [--warmup N] [--every N]
//   [--model NAME] [--batches 1,2,3,4] ; STAGE: onnx | static | downscale | case-jpeg | pair-jpeg | crop-jpeg | ingest | idle
var stage = args.Length > 0 ? args[0] : "idle";
int Arg(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 ? int.Parse(args[i + 1]) : fallback;
string Str(string name, string fallback) => Array.IndexOf(args, name) is var i and >= 0 ? args[i + 1] : fallback;
var iterations = Arg("--iterations", 10_000);
var warmup = Arg("--warmup", 1_000);
var every = Arg("--every", 500);

var repo = FindRepo();
var assets = Environment.GetEnvironmentVariable("CITYSIGHT_ASSETS") ?? Path.Combine(repo, "..", "shared", "assets");
var clip = Path.Combine(assets, "media", "parking-lot-cctv-640x480.mp4");

// A handful of real frames from the clip, reused round-robin by the in-memory stages.
var frames = new List<Frame>();
if (stage != "idle")
{
    await foreach (var f in VideoReader.ReadAsync("loop", clip, new VideoReadOptions { SampleInterval = TimeSpan.FromSeconds(2), RealTime = false }))
    {
        frames.Add(f);
        if (frames.Count == 8) break;
    }
}

Action<int> step;
IDisposable? owned = null;
switch (stage)
{
    case "onnx":
    {
        var spec = ModelManifest.Load(Path.Combine(repo, "models", "manifest.yaml")).Get(Str("--model", "yolov8n-coco-int8"));
        var path = ModelLocator.Locate(spec, [Path.Combine(repo, "models"), Path.Combine(assets, "models")]);
        var batches = Str("--batches", "1").Split(',').Select(int.Parse).ToArray();
        var detector = new OnnxDetector(spec, path, new DetectorOptions { Threads = Arg("--threads", 0), MaxBatch = batches.Max() });
        owned = detector;
        var results = new IReadOnlyList<Detection>[batches.Max()];
        var batch = new Frame[batches.Max()];
        step = i =>
        {
            var n = Math.Min(batches[i % batches.Length], detector.BatchCapacity);
            for (var k = 0; k < n; k++) batch[k] = frames[(i + k) % frames.Count];
            detector.Detect(batch.AsSpan(0, n), results);
        };
        break;
    }
    case "batching":
    {
        // As the service runs it: frames queued to a BatchingDetector, whose loop runs on pool threads.
        var spec = ModelManifest.Load(Path.Combine(repo, "models", "manifest.yaml")).Get(Str("--model", "yolov8n-coco-int8"));
        var path = ModelLocator.Locate(spec, [Path.Combine(repo, "models"), Path.Combine(assets, "models")]);
        var maxBatch = Arg("--max-batch", 1);
        var detector = new BatchingDetector(spec, path, new DetectorOptions { Threads = Arg("--threads", 0), MaxBatch = maxBatch,
            MaxWait = TimeSpan.FromMilliseconds(Arg("--max-wait-ms", 0)) });
        var sink = new CountingSink();
        var inFlight = Arg("--in-flight", 2);
        step = i =>
        {
            for (var k = 0; k < inFlight; k++) detector.SubmitAsync(frames[(i + k) % frames.Count], sink).AsTask().GetAwaiter().GetResult();
            for (var k = 0; k < inFlight; k++) sink.Answers.Wait();
        };
        break;
    }
    case "static":
    {
        var detector = new StaticObjectDetector();
        var t0 = frames[0].CaptureTime;
        step = i =>
        {
            var f = frames[i % frames.Count];
            detector.Detect(f.Bgr, f.Width, f.Height, t0.AddSeconds(i * 0.5), []);
        };
        break;
    }
    case "downscale":
    {
        var view = new byte[480 * 360 * 3];
        step = i =>
        {
            var f = frames[i % frames.Count];
            EvidenceImage.Downscale(f.Bgr, f.Width, f.Height, view, 480, 360);
        };
        break;
    }
    case "case-jpeg" or "pair-jpeg" or "crop-jpeg":
    {
        NormalisedPoint[] zone = [new(0.1, 0.5), new(0.9, 0.5), new(0.9, 0.95), new(0.1, 0.95)];
        var small = new byte[480 * 360 * 3];
        EvidenceImage.Downscale(frames[0].Bgr, frames[0].Width, frames[0].Height, small, 480, 360);
        step = i =>
        {
            var f = frames[i % frames.Count];
            var box = new Box(100 + i % 50, 200, 300 + i % 70, 400);
            var sketch = new EvidenceSketch([zone], [(box, $"垃圾 garbage 0.{i % 100:D2}")],
                ["暴露垃圾 Exposed garbage", $"camera {i % 7} · 2026-12-07 10:{i % 60:D2}:00"]);
            _ = stage switch
            {
                "case-jpeg" => EvidenceImage.EncodeCaseJpeg(f.Bgr, f.Width, f.Height, sketch),
                "pair-jpeg" => EvidenceImage.EncodePairJpeg(small, 480, 360, f.Bgr, f.Width, f.Height, sketch, "之前 before", "之后 after"),
                _ => EvidenceImage.EncodeCropJpeg(f.Bgr, f.Width, f.Height, box),
            };
        };
        break;
    }
    case "ingest":
    {
        var reader = VideoReader.ReadAsync("loop", clip, new VideoReadOptions { SampleInterval = TimeSpan.FromSeconds(0.5), Loop = true, RealTime = false })
            .GetAsyncEnumerator();
        step = _ =>
        {
            if (!reader.MoveNextAsync().AsTask().GetAwaiter().GetResult()) throw new InvalidOperationException("clip ended");
            reader.Current.Dispose();
        };
        break;
    }
    default:
        step = _ => { };
        break;
}

// --new-thread: every step on a fresh thread (as a pool's threads come and go), --pool: on a pool thread.
if (args.Contains("--new-thread"))
{
    var inner = step;
    step = i =>
    {
        var t = new Thread(() => inner(i));
        t.Start();
        t.Join();
    };
}
else if (Arg("--round-robin", 0) is var workers and > 0)
{
    // Steps taken in turn by that many long-lived threads: each thread gets its own malloc arena.
    var inner = step;
    var queues = Enumerable.Range(0, workers).Select(_ => new System.Collections.Concurrent.BlockingCollection<int>(1)).ToArray();
    var done = new SemaphoreSlim(0);
    foreach (var q in queues)
        new Thread(() => { foreach (var k in q.GetConsumingEnumerable()) { inner(k); done.Release(); } }) { IsBackground = true }.Start();
    step = i =>
    {
        queues[i % workers].Add(i);
        done.Wait();
    };
}
else if (args.Contains("--pool"))
{
    var inner = step;
    step = i => Task.Run(() => inner(i)).GetAwaiter().GetResult();
}

Console.WriteLine($"stage {stage}: {iterations} iterations after {warmup} warm-up, sampled every {every}; pid {Environment.ProcessId}");
Console.WriteLine($"{"iter",8} {"RSS MiB",9} {"managed",9} {"GC commit",10} {"RSS-commit",11} {"malloc held",12} {"in use",8} {"ms/iter",8}");
for (var i = 0; i < warmup; i++) step(i);
var samples = new List<(int Iter, double Rss, double Managed, double Committed)>();
var sw = Stopwatch.StartNew();
for (var i = 0; i <= iterations; i++)
{
    if (i % every == 0)
    {
        var s = (i, Rss(), GC.GetTotalMemory(false) / 1048576.0, GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0);
        samples.Add(s);
        var mi = Libc.mallinfo2();
        Console.WriteLine($"{i,8} {s.Item2,9:F1} {s.Item3,9:F1} {s.Item4,10:F1} {s.Item2 - s.Item4,11:F1} " +
            $"{(mi.arena + mi.hblkhd) / 1048576.0,12:F1} {(mi.uordblks + mi.hblkhd) / 1048576.0,8:F1} {sw.Elapsed.TotalMilliseconds / Math.Max(1, every),8:F2}");
        sw.Restart();
    }
    if (i < iterations) step(warmup + i);
}
double Slope(Func<(int Iter, double Rss, double Managed, double Committed), double> y)
{
    var xs = samples.Select(s => s.Iter / 1000.0).ToArray();
    var ys = samples.Select(y).ToArray();
    double mx = xs.Average(), my = ys.Average();
    return xs.Zip(ys).Sum(p => (p.First - mx) * (p.Second - my)) / xs.Sum(x => (x - mx) * (x - mx)) * 1024;
}
Console.WriteLine($"slope KiB per 1,000 iterations: resident {Slope(s => s.Rss):F0}, managed {Slope(s => s.Managed):F0}, " +
    $"GC committed {Slope(s => s.Committed):F0}, resident - committed {Slope(s => s.Rss - s.Committed):F0}");
owned?.Dispose();
foreach (var f in frames) f.Dispose();
return 0;

static double Rss()
{
    var m = Regex.Match(File.ReadAllText("/proc/self/status"), @"VmRSS:\s+(\d+) kB");
    return long.Parse(m.Groups[1].Value) / 1024.0;
}

static string FindRepo()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "CitySight.sln"))) return d.FullName;
    throw new InvalidOperationException("CitySight.sln not found");
}

/// <summary>Counts answers; the harness's frames are reused, so the sink does not dispose them.</summary>
internal sealed class CountingSink : IDetectionSink
{
    public SemaphoreSlim Answers { get; } = new(0);
    public void OnDetected(Frame frame, ModelSpec model, IReadOnlyList<Detection> detections) => Answers.Release();
    public void OnFailed(Frame frame, ModelSpec model, Exception error) => Answers.Release();
}

/// <summary>glibc's own count: what malloc holds from the system (arena heaps + mmapped chunks) against what is in use.</summary>
internal static partial class Libc
{
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    public struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    [System.Runtime.InteropServices.LibraryImport("libc")]
    public static partial MallInfo2 mallinfo2();
}
