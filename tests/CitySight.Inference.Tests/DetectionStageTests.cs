using System.Threading.Channels;
using CitySight.Domain;
using CitySight.Imaging;
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
        var vendors = Detector("fastestdet-coco", "vendors", "crowding", "person");
        var cameras = new[]
        {
            Cam("cam-road", "illegal_parking"),
            Cam("cam-market", "crowding"),
            // Stalls are found without a trained model (a person beside goods): every model, and the static pass.
            Cam("cam-stall", "street_stall"),
            Cam("cam-both", "illegal_parking", "crowding"),
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
        Assert.DoesNotContain("crowding", TypesOf(byCamera["cam-road"]));
        Assert.Contains("crowding", TypesOf(byCamera["cam-market"]));
        Assert.DoesNotContain("illegal_parking", TypesOf(byCamera["cam-market"]));
        // Both models looked at the same frame: their detections arrive together, once per frame.
        Assert.Equal(3, byCamera["cam-both"].Count);
        Assert.All(byCamera["cam-both"], f =>
        {
            Assert.Contains(f.Detections, d => d.CaseType == "illegal_parking");
            Assert.Contains(f.Detections, d => d.CaseType == "crowding");
        });

        Assert.Equal(["crowding", "illegal_parking"], TypesOf(byCamera["cam-stall"]).Where(t => t is not null).Order());
        // Three cameras each, three frames: nothing routed twice, nothing to a model the camera did not ask for
        // (the stall camera asks for every model: persons and masks).
        Assert.Equal((9L, 9L), (vehicles.Frames, vendors.Frames));
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

    [Fact]
    public async Task A_camera_asking_only_for_garbage_gets_the_static_pass_masked_by_every_model_detection()
    {
        // yolov8n raises illegal_parking only; the camera asks for garbage alone and still gets it, for its masks.
        var spec = Manifest.Get("yolov8n-coco-int8");
        await using var model = new BatchingDetector(spec, TestAssets.Model(spec.File), new DetectorOptions());
        var camera = Cam("cam-yard", "garbage");
        var stage = new DetectionStage([model], id => id == camera.Id ? camera : null);

        // bus.jpg (810x1080): the bus spans about (34, 230)-(798, 767), persons stand in front of it down to y ≈ 900.
        // From 20 s on, two things are put down and left: a pile on the road below everyone, and a patch on the bus's
        // side (inside a model's box: never a static object).
        var pile = (X: 420, Y: 950, W: 120, H: 80);
        var onBus = (X: 450, Y: 300, W: 120, H: 80);
        var got = await DetectionStageRun.PlayAsync(stage, camera, 19, seq =>
        {
            var frame = Bus(camera.Id, seq);
            var f = Frame.Rent(camera.Id, seq, DateTimeOffset.UnixEpoch.AddSeconds(5 * seq), frame.Width, frame.Height);
            frame.Bgr.CopyTo(f.Bgr);
            frame.Dispose();
            if (5 * seq >= 20)
            {
                DetectionStageRun.Checker(f, pile.X, pile.Y, pile.W, pile.H);
                DetectionStageRun.Checker(f, onBus.X, onBus.Y, onBus.W, onBus.H);
            }
            return f;
        });
        Assert.Equal(19, got.Count);
        Assert.Contains(got[^1].Detections, d => d.CaseType == "illegal_parking"); // the models' own, for tracking to drop
        foreach (var d in got)
        {
            var statics = d.Detections.Where(x => x.ClassName == "static_object").ToList();
            var seconds = (d.Frame.CaptureTime - DateTimeOffset.UnixEpoch).TotalSeconds;
            // Put down at 20 s, settled 30 s later: nothing before 50 s, the pile from then on.
            if (seconds < 50) Assert.Empty(statics);
            else
                Assert.Contains(statics, x => x.Box.X1 <= pile.X + pile.W / 2 && x.Box.X2 >= pile.X + pile.W / 2
                    && x.Box.Y1 <= pile.Y + pile.H / 2 && x.Box.Y2 >= pile.Y + pile.H / 2);
            Assert.All(statics, x =>
            {
                Assert.Equal((-1, "garbage"), (x.ClassId, x.CaseType));
                Assert.True(x.Confidence >= 0.5f, $"confidence {x.Confidence}");
                Assert.True(x.Box.Y1 > onBus.Y + onBus.H, $"a static object inside the bus's box: {x.Box}");
            });
            d.Frame.Dispose();
        }
    }
}
