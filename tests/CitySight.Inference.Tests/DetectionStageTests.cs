using System.Threading.Channels;
using CitySight.Domain;
using CitySight.Imaging;
using CitySight.Inference;
using CitySight.Tests;

namespace CitySight.Inference.Tests;

/// <summary>Several models at once, each camera routed by the case types it asks for, through the real models.</summary>
public class DetectionStageTests
{
    private static readonly ModelManifest Manifest = ModelManifest.Load(Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml"));

    private static Camera Cam(string id, params string[] caseTypes) =>
        new() { Id = id, Name = id, GroupId = "g", Url = $"/videos/{id}.mp4", RealTime = false, Detectors = caseTypes };

    /// <summary>A COCO model standing in for a custom one: only the class → case type map differs.</summary>
    private static BatchingDetector Detector(string model, string name, string caseType, params string[] classes)
    {
        var spec = Manifest.Get(model) with
        {
            Name = name,
            CaseTypes = new Dictionary<string, IReadOnlyList<string>> { [caseType] = classes },
        };
        return new BatchingDetector(spec, TestAssets.Model(spec.File), new DetectorOptions());
    }

    private static Frame Bus(string camera, long sequence)
    {
        using var loaded = EvidenceImage.LoadFrame(TestAssets.Media("bus.jpg"), camera);
        var frame = Frame.Rent(camera, sequence, DateTimeOffset.UnixEpoch.AddSeconds(sequence), loaded.Width, loaded.Height);
        loaded.Bgr.CopyTo(frame.Bgr);
        return frame;
    }

    [Fact]
    public async Task Each_camera_gets_the_models_for_its_case_types_joined_per_frame_in_order()
    {
        var vehicles = Detector("yolox-nano-coco", "vehicles", "illegal_parking", "car", "bus", "truck");
        var vendors = Detector("fastestdet-coco", "vendors", "street_stall", "person");
        var cameras = new[]
        {
            Cam("cam-road", "illegal_parking"),
            Cam("cam-market", "street_stall"),
            Cam("cam-both", "illegal_parking", "street_stall"),
            Cam("cam-garbage", "exposed_garbage"),
        }.ToDictionary(c => c.Id);
        var stage = new DetectionStage([vehicles, vendors], id => cameras.GetValueOrDefault(id));
        var mailboxes = new FrameMailboxes();
        var output = Channel.CreateUnbounded<DetectedFrame>();

        var run = stage.RunAsync(mailboxes, output.Writer, CancellationToken.None);
        var writers = cameras.Values.ToDictionary(c => c.Id, c => mailboxes.For(c, lossless: true));
        var garbageFrames = new List<Frame>();
        for (var seq = 1; seq <= 3; seq++)
        {
            foreach (var (id, writer) in writers)
            {
                var f = Bus(id, seq);
                if (id == "cam-garbage") garbageFrames.Add(f);
                await writer.WriteAsync(f);
            }
        }
        mailboxes.Complete();
        await run.WaitAsync(TimeSpan.FromSeconds(120));

        var got = new List<DetectedFrame>();
        await foreach (var d in output.Reader.ReadAllAsync()) got.Add(d);
        var byCamera = got.GroupBy(d => d.Frame.CameraId).ToDictionary(g => g.Key, g => g.ToList());

        // No running model raises garbage: those frames go nowhere, and their buffers go back to the pool.
        Assert.False(byCamera.ContainsKey("cam-garbage"));
        Assert.All(garbageFrames, f => Assert.Throws<ObjectDisposedException>(() => f.Buffer));
        foreach (var (id, frames) in byCamera)
        {
            Assert.Equal([1L, 2L, 3L], frames.Select(f => f.Frame.Sequence));
            Assert.All(frames, f => Assert.True(f.InferenceTime > TimeSpan.Zero));
        }

        static HashSet<string?> TypesOf(List<DetectedFrame> frames) => frames.SelectMany(f => f.Detections).Select(d => d.CaseType).ToHashSet();
        Assert.Contains("illegal_parking", TypesOf(byCamera["cam-road"]));
        Assert.DoesNotContain("street_stall", TypesOf(byCamera["cam-road"]));
        Assert.Contains("street_stall", TypesOf(byCamera["cam-market"]));
        Assert.DoesNotContain("illegal_parking", TypesOf(byCamera["cam-market"]));
        // Both models looked at the same frame: their detections arrive together, once per frame.
        Assert.Equal(3, byCamera["cam-both"].Count);
        Assert.All(byCamera["cam-both"], f =>
        {
            Assert.Contains(f.Detections, d => d.CaseType == "illegal_parking");
            Assert.Contains(f.Detections, d => d.CaseType == "street_stall");
        });

        // Two cameras each, three frames: nothing routed twice, nothing to a model the camera did not ask for.
        Assert.Equal((6L, 6L), (vehicles.Frames, vendors.Frames));
        foreach (var d in got) d.Frame.Dispose();
        await vehicles.DisposeAsync();
        await vendors.DisposeAsync();
    }

    [Fact]
    public async Task After_a_reload_adds_a_case_type_to_a_camera_its_frames_reach_the_model_for_it()
    {
        await using var vehicles = Detector("yolox-nano-coco", "vehicles", "illegal_parking", "car", "bus", "truck");
        await using var vendors = Detector("fastestdet-coco", "vendors", "street_stall", "person");
        // The cameras in force, as the service's camera directory holds them: a reload replaces a camera's definition.
        var cameras = new Dictionary<string, Camera> { ["cam-1"] = Cam("cam-1", "illegal_parking") };
        var stage = new DetectionStage([vehicles, vendors], id => Volatile.Read(ref cameras).GetValueOrDefault(id));
        var mailboxes = new FrameMailboxes();
        var output = Channel.CreateUnbounded<DetectedFrame>();
        var run = stage.RunAsync(mailboxes, output.Writer, CancellationToken.None);
        var writer = mailboxes.For(cameras["cam-1"], lossless: true);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));

        await writer.WriteAsync(Bus("cam-1", 1));
        using (var first = (await output.Reader.ReadAsync(timeout.Token)).Frame)
            Assert.Equal(1, first.Sequence);
        Assert.Equal((1L, 0L), (vehicles.Frames, vendors.Frames));

        // The reload: the camera now asks for street stalls too.
        Volatile.Write(ref cameras, new Dictionary<string, Camera> { ["cam-1"] = Cam("cam-1", "illegal_parking", "street_stall") });
        await writer.WriteAsync(Bus("cam-1", 2));
        var second = await output.Reader.ReadAsync(timeout.Token);

        Assert.Equal(2, second.Frame.Sequence);
        Assert.Equal((2L, 1L), (vehicles.Frames, vendors.Frames));
        Assert.Contains(second.Detections, d => d.CaseType == "street_stall");
        Assert.Contains(second.Detections, d => d.CaseType == "illegal_parking");
        second.Frame.Dispose();
        mailboxes.Complete();
        await run.WaitAsync(timeout.Token);
    }
}
