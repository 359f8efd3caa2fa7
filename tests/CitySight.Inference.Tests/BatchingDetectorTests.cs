using System.Collections.Concurrent;
using CitySight.Domain;
using CitySight.Imaging;
using CitySight.Tests;

namespace CitySight.Inference.Tests;

/// <summary>Collects what a detector hands back, and lets a test wait for a number of answers.</summary>
internal sealed class RecordingSink(int expected) : IDetectionSink
{
    private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _count;

    public ConcurrentQueue<(Frame Frame, ModelSpec Model, IReadOnlyList<Detection>? Detections, Exception? Error)> Answers { get; } = new();

    public Task All => _all.Task;

    public void OnDetected(Frame frame, ModelSpec model, IReadOnlyList<Detection> detections) => Add((frame, model, detections, null));

    public void OnFailed(Frame frame, ModelSpec model, Exception error) => Add((frame, model, null, error));

    private void Add((Frame, ModelSpec, IReadOnlyList<Detection>?, Exception?) answer)
    {
        Answers.Enqueue(answer);
        if (Interlocked.Increment(ref _count) == expected) _all.TrySetResult();
    }
}

public class BatchingDetectorTests
{
    private static readonly ModelManifest Manifest = ModelManifest.Load(Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml"));
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static (ModelSpec Spec, string Path) Model(string name)
    {
        var spec = Manifest.Get(name);
        return (spec, TestAssets.Model(spec.File));
    }

    private static Frame Load(string media, string camera, DateTimeOffset at)
    {
        using var loaded = EvidenceImage.LoadFrame(TestAssets.Media(media), camera);
        var frame = Frame.Rent(camera, 7, at, loaded.Width, loaded.Height);
        loaded.Bgr.CopyTo(frame.Bgr);
        return frame;
    }

    [Fact]
    public async Task Two_cameras_in_one_batch_each_get_their_own_detections_back()
    {
        var (spec, path) = Model("yolox-nano-coco-dynbatch");
        // A long wait: the two frames must share one run, which only a full batch ends early.
        await using var batcher = new BatchingDetector(spec, path, new DetectorOptions { MaxBatch = 2, MaxWait = TimeSpan.FromSeconds(30) });
        Assert.True(batcher.DynamicBatch);
        Assert.Equal(2, batcher.BatchCapacity);

        var busAt = new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);
        var catAt = busAt.AddMinutes(5);
        using var bus = Load("bus.jpg", "cam-bus", busAt);
        using var cat = Load("coco-sample-4.jpg", "cam-cat", catAt);
        var sink = new RecordingSink(2);

        await batcher.SubmitAsync(bus, sink);
        await batcher.SubmitAsync(cat, sink);
        await sink.All.WaitAsync(Patience);

        Assert.Equal((1L, 2L), (batcher.Runs, batcher.Frames));
        Assert.Equal(1.0, batcher.MeanBatchFill);
        var answers = sink.Answers.ToDictionary(a => a.Frame.CameraId);
        Assert.Same(bus, answers["cam-bus"].Frame);
        Assert.Equal(busAt, answers["cam-bus"].Frame.CaptureTime);
        Assert.Equal(catAt, answers["cam-cat"].Frame.CaptureTime);
        var busClasses = answers["cam-bus"].Detections!.Select(d => d.ClassName).ToList();
        var catClasses = answers["cam-cat"].Detections!.Select(d => d.ClassName).ToList();
        Assert.Contains("bus", busClasses);
        Assert.DoesNotContain("cat", busClasses);
        Assert.Contains("cat", catClasses);
        Assert.DoesNotContain("bus", catClasses);

        // The batched answer is the one each frame gets alone, box for box, in its own pixels.
        using var single = new OnnxDetector(spec, path);
        AssertSame(single.Detect(bus), answers["cam-bus"].Detections!);
        AssertSame(single.Detect(cat), answers["cam-cat"].Detections!);
    }

    private static void AssertSame(IReadOnlyList<Detection> expected, IReadOnlyList<Detection> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].ClassId, actual[i].ClassId);
            Assert.Equal(expected[i].Confidence, actual[i].Confidence, 4);
            Assert.True(expected[i].Box.IoU(actual[i].Box) > 0.999, $"{expected[i].Box} vs {actual[i].Box}");
        }
    }

    [Fact]
    public async Task A_lone_frame_goes_when_the_wait_is_over_without_a_full_batch()
    {
        var (spec, path) = Model("yolox-nano-coco-dynbatch");
        await using var batcher = new BatchingDetector(spec, path, new DetectorOptions { MaxBatch = 4, MaxWait = TimeSpan.FromMilliseconds(20) });
        using var bus = Load("bus.jpg", "cam-bus", DateTimeOffset.UnixEpoch);
        var sink = new RecordingSink(1);

        await batcher.SubmitAsync(bus, sink);
        await sink.All.WaitAsync(Patience);

        Assert.Equal((1L, 1L), (batcher.Runs, batcher.Frames));
        Assert.Equal(0.25, batcher.MeanBatchFill);
    }

    [Fact]
    public async Task A_model_fixed_at_batch_one_runs_parallel_sessions_instead()
    {
        var (spec, path) = Model("yolox-nano-coco");
        await using var batcher = new BatchingDetector(spec, path, new DetectorOptions { MaxBatch = 3 });
        Assert.False(batcher.DynamicBatch);
        Assert.Equal(1, batcher.BatchCapacity);
        Assert.Equal(3, batcher.Instances);

        var frames = Enumerable.Range(0, 6).Select(i => Load("bus.jpg", $"cam-{i}", DateTimeOffset.UnixEpoch.AddSeconds(i))).ToList();
        var sink = new RecordingSink(frames.Count);
        foreach (var f in frames) await batcher.SubmitAsync(f, sink);
        await sink.All.WaitAsync(Patience);

        Assert.Equal((6L, 6L), (batcher.Runs, batcher.Frames));
        Assert.All(sink.Answers, a => Assert.Contains(a.Detections!, d => d.ClassName == "bus"));
        Assert.Equal(frames.Select(f => f.CameraId).Order(), sink.Answers.Select(a => a.Frame.CameraId).Order());
        foreach (var f in frames) f.Dispose();
    }

    [Fact]
    public async Task Completing_still_detects_every_queued_frame()
    {
        var (spec, path) = Model("fastestdet-coco");
        var batcher = new BatchingDetector(spec, path, new DetectorOptions());
        var frames = Enumerable.Range(0, 3).Select(i => Load("bus.jpg", $"cam-{i}", DateTimeOffset.UnixEpoch)).ToList();
        var sink = new RecordingSink(frames.Count);
        foreach (var f in frames) await batcher.SubmitAsync(f, sink);

        await batcher.DisposeAsync();

        Assert.True(sink.All.IsCompletedSuccessfully);
        Assert.All(sink.Answers, a => Assert.Null(a.Error));
        foreach (var f in frames) f.Dispose();
    }

    [Fact]
    public async Task A_frame_that_cannot_be_detected_comes_back_as_a_failure_and_the_next_one_still_runs()
    {
        var (spec, path) = Model("fastestdet-coco");
        await using var batcher = new BatchingDetector(spec, path, new DetectorOptions());
        var broken = Frame.Rent("cam-broken", 1, DateTimeOffset.UnixEpoch, 64, 64);
        broken.Dispose(); // its pixels are gone: detecting it throws
        using var bus = Load("bus.jpg", "cam-bus", DateTimeOffset.UnixEpoch);
        var sink = new RecordingSink(2);

        await batcher.SubmitAsync(broken, sink);
        await batcher.SubmitAsync(bus, sink);
        await sink.All.WaitAsync(Patience);

        var answers = sink.Answers.ToDictionary(a => a.Frame.CameraId);
        Assert.IsType<ObjectDisposedException>(answers["cam-broken"].Error);
        Assert.Null(answers["cam-bus"].Error);
        Assert.Contains(answers["cam-bus"].Detections!, d => d.ClassName == "bus");
    }
}
