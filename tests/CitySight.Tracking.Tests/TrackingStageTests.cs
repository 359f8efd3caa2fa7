using System.Threading.Channels;
using CitySight.Domain;
using CitySight.Tests;
using static CitySight.Tracking.Tests.Scenes;

namespace CitySight.Tracking.Tests;

/// <summary>The tracking stage: one tracker per camera, the camera's detectors only, run-time camera changes, and
/// tracked frames that keep their tracks while the tracker moves on.</summary>
public class TrackingStageTests
{
    private const int W = 1280, H = 720;
    private static readonly Box A = new(100, 300, 300, 420);
    private static readonly Box B = new(700, 320, 900, 440);

    private static Camera Cam(string id, params string[] detectors) => new()
    {
        Id = id, Name = id, GroupId = "g", Url = $"rtsp://192.0.2.1/{id}", Detectors = detectors,
    };

    private static DetectedFrame At(string camera, int seconds, params Detection[] detections) =>
        new(Frame.Rent(camera, seconds, T0.AddSeconds(seconds), W, H), detections, TimeSpan.Zero);

    private static Track[] Tracked(TrackingStage stage, DetectedFrame detected)
    {
        using var tracked = stage.Track(detected) ?? throw new InvalidOperationException("frame dropped");
        return tracked.Tracks.ToArray();
    }

    [Fact]
    public void Each_camera_has_its_own_tracker()
    {
        var stage = new TrackingStage([Cam("cam-1"), Cam("cam-2")], new TrackerOptions());
        for (var s = 0; s < 3; s++)
        {
            // The same place on both cameras, and cam-2 misses it now and then: cam-1's track never notices.
            Tracked(stage, At("cam-1", s, Car(A)));
            Tracked(stage, At("cam-2", s, s == 1 ? [] : [Car(B)]));
        }
        var one = Assert.Single(Tracked(stage, At("cam-1", 3, Car(A))));
        var two = Assert.Single(Tracked(stage, At("cam-2", 3, Car(B))));
        Assert.Equal(2, stage.Trackers);
        Assert.Equal(1, one.Id);                 // ids count per camera
        Assert.Equal(1, two.Id);
        Assert.Equal(A, one.Box);
        Assert.Equal(B, two.Box);
        Assert.Equal(4, one.Hits);
        Assert.Equal(T0.AddSeconds(2), two.FirstSeen);   // cam-2's own track began again after its miss
    }

    [Fact]
    public void Only_the_case_types_the_camera_looks_for_are_tracked()
    {
        var stage = new TrackingStage([Cam("cam-1", Parking)], new TrackerOptions());
        var stall = new Detection(0, "umbrella", 0.9f, B, "street_stall");
        Track[] last = [];
        for (var s = 0; s < 3; s++) last = Tracked(stage, At("cam-1", s, Car(A), stall, Person(new Box(500, 100, 560, 250))));
        Assert.Equal(Parking, Assert.Single(last).CaseType);
    }

    [Fact]
    public void Tracks_in_a_tracked_frame_survive_the_next_update_of_its_camera()
    {
        var stage = new TrackingStage([Cam("cam-1")], new TrackerOptions { MaxLostTime = TimeSpan.FromSeconds(5), MinLostSamples = 1 });
        Tracked(stage, At("cam-1", 0, Car(A)));
        using var held = stage.Track(At("cam-1", 1, Car(A)))!;
        // The rules have not read it yet when the tracker moves on: the car is missed, then removed.
        using var missed = stage.Track(At("cam-1", 2))!;
        using var gone = stage.Track(At("cam-1", 20))!;

        var t = Assert.Single(held.Tracks.ToArray());
        Assert.Equal(TrackState.Confirmed, t.State);
        Assert.Equal(A, t.Box);
        Assert.True(held.RemovedTrackIds.IsEmpty);
        Assert.Equal(TrackState.Lost, Assert.Single(missed.Tracks.ToArray()).State);
        Assert.True(gone.Tracks.IsEmpty);
        Assert.Equal(t.Id, Assert.Single(gone.RemovedTrackIds.ToArray()));
    }

    [Fact]
    public void A_removed_camera_loses_its_tracker_and_a_changed_one_starts_again()
    {
        var stage = new TrackingStage([Cam("cam-1"), Cam("cam-2")], new TrackerOptions());
        for (var s = 0; s < 2; s++)
        {
            Tracked(stage, At("cam-1", s, Car(A)));
            Tracked(stage, At("cam-2", s, Car(A)));
        }
        Tracked(stage, At("cam-1", 2, Car(A), Car(B)));
        Assert.Equal([1, 2], Tracked(stage, At("cam-1", 3, Car(A), Car(B))).Select(t => t.Id));

        stage.RemoveCamera("cam-2");
        var changed = Cam("cam-1", Parking);
        stage.ReplaceCamera(changed);

        // A frame of the removed camera still in flight is dropped, its pixels returned.
        var late = At("cam-2", 4, Car(A));
        Assert.Null(stage.Track(late));
        Assert.Throws<ObjectDisposedException>(() => late.Frame.Buffer);
        Assert.Equal(0, stage.Trackers);

        // The changed camera: a fresh tracker (ids from 1 again, confirmed anew), and frames say which definition tracked them.
        Assert.Empty(Tracked(stage, At("cam-1", 4, Car(B))));
        using var again = stage.Track(At("cam-1", 5, Car(B)))!;
        Assert.Same(changed, again.Camera);
        var t = Assert.Single(again.Tracks.ToArray());
        Assert.Equal(1, t.Id);
        Assert.Equal(T0.AddSeconds(4), t.FirstSeen);
        Assert.Equal(1, stage.Trackers);
    }

    [Fact]
    public async Task The_loop_passes_frames_on_in_order_and_completes_when_its_input_does()
    {
        var stage = new TrackingStage([Cam("cam-1")], new TrackerOptions());
        var input = Channel.CreateBounded<DetectedFrame>(8);
        var output = Channel.CreateBounded<TrackedFrame>(new BoundedChannelOptions(2) { FullMode = BoundedChannelFullMode.Wait });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = stage.RunAsync(input.Reader, output.Writer, timeout.Token);
        var writes = Task.Run(async () =>
        {
            for (var s = 0; s < 6; s++) await input.Writer.WriteAsync(At(s % 3 == 2 ? "cam-9" : "cam-1", s, Car(A)), timeout.Token);
            input.Writer.Complete();
        });

        var seen = new List<long>();
        await foreach (var tracked in output.Reader.ReadAllAsync(timeout.Token))
            using (tracked) seen.Add(tracked.Frame.Sequence);
        await run;
        await writes;
        Assert.Equal([0L, 1, 3, 4], seen);   // cam-9 is no camera of this stage: its frames are dropped
    }

    [Fact]
    public void Steady_state_frames_through_the_stage_allocate_nothing()
    {
        var rng = new Random(1);
        var scenes = new Detection[32][];
        for (var f = 0; f < scenes.Length; f++)
        {
            scenes[f] = new Detection[10];
            for (var c = 0; c < 10; c++)
            {
                var box = new Box(50 + 120 * c, 300 + 20 * (c % 3), 160 + 120 * c, 380 + 20 * (c % 3));
                scenes[f][c] = Car(Jitter(box, rng, 3), Between(rng, 0.3f, 0.9f));
            }
        }
        // Frames made beforehand (the stage never reads pixels, so each gives its buffer back at once).
        const int Warm = 200, Times = 1000, Tries = 3;
        var frames = new DetectedFrame[Warm + Times * Tries];
        for (var i = 0; i < frames.Length; i++)
        {
            var frame = Frame.Rent("cam-1", i, T0.AddSeconds(i), W, H);
            frame.Dispose();
            frames[i] = new DetectedFrame(frame, scenes[i % scenes.Length], TimeSpan.Zero);
        }
        var stage = new TrackingStage([Cam("cam-1", Parking)], new TrackerOptions());
        for (var i = 0; i < Warm; i++) stage.Track(frames[i])!.Dispose();

        var checksum = 0L;
        var updates = 0;
        var allocated = SteadyState.AllocatedBytes(i =>
        {
            using var tracked = stage.Track(frames[Warm + i])!;
            var tracks = tracked.Tracks;
            for (var k = 0; k < tracks.Length; k++) checksum += tracks[k].Id;
            updates++;
        }, times: Times, tries: Tries);
        Assert.Equal(updates * 55L, checksum);   // the same ten tracks, ids 1..10, throughout
        Assert.Equal(0, allocated);
    }
}
