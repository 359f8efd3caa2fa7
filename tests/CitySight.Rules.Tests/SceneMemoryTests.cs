using CitySight.Domain;
using CitySight.Tests;

namespace CitySight.Rules.Tests;

/// <summary>A camera's remembered views: taken at an interval, the oldest kept for a static object, nothing allocated per frame.</summary>
public sealed class SceneMemoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    /// <summary>A 1080p frame of one grey level: the level says when it was taken.</summary>
    private static Frame At(int seconds, byte level)
    {
        var f = Frame.Rent("cam-1", seconds, T0.AddSeconds(seconds), 1920, 1080);
        f.Bgr.Fill(level);
        return f;
    }

    [Fact]
    public void A_static_object_keeps_the_oldest_view_taken_before_it_came()
    {
        using var memory = new SceneMemory(TimeSpan.FromMinutes(1));
        // A frame every 10 s for 3.5 minutes; the level is the minute it was taken in (10, 11, 12, 13).
        for (var s = 0; s <= 210; s += 10)
        {
            using var f = At(s, (byte)(10 + s / 60));
            memory.Observe(f);
        }
        memory.Pin(7);
        var view = Assert.IsType<SceneView>(memory.PinnedFor(7));
        // Views at 0, 60, 120, 180 s round-robin in three slots: the oldest left is the one at 60 s.
        Assert.Equal(T0.AddSeconds(60), view.TakenAt);
        Assert.Equal((480, 270), (view.Width, view.Height));
        Assert.Equal(11, view.Bgr[view.Width * view.Height * 3 / 2]);

        // Kept as it was while newer views are taken, until released.
        using (var later = At(300, 99)) memory.Observe(later);
        Assert.Equal(11, memory.PinnedFor(7)!.Bgr[0]);
        memory.Release(7);
        Assert.Null(memory.PinnedFor(7));
        Assert.Equal(0, memory.Pinned);
    }

    [Fact]
    public void Nothing_is_kept_before_the_first_view_and_a_clock_gone_back_starts_again()
    {
        using var memory = new SceneMemory(TimeSpan.FromMinutes(1));
        memory.Pin(1);
        Assert.Null(memory.PinnedFor(1));
        using (var f = At(600, 50)) memory.Observe(f);
        using (var f = At(0, 60)) memory.Observe(f);    // the stream restarted: its clock went back
        memory.Pin(2);
        Assert.Equal(T0, memory.PinnedFor(2)!.TakenAt);
    }

    [Fact]
    public void Watching_a_camera_allocates_nothing_per_frame_once_its_views_exist()
    {
        using var memory = new SceneMemory(TimeSpan.FromSeconds(1));
        // Frames made beforehand (the pipeline's come from ingest): one picture, a new capture time each, 2 s apart.
        var pixels = new byte[1920 * 1080 * 3];
        var frames = Enumerable.Range(0, 100).Select(i => new Frame("cam-1", i, T0.AddSeconds(2 * i), 1920, 1080, pixels)).ToArray();
        void Step(int i) => memory.Observe(frames[i]);   // every call takes a view: the costliest path
        for (var i = 0; i < 5; i++) Step(i);
        Assert.Equal(0, SteadyState.AllocatedBytes(i => Step(5 + i), times: 20));
    }
}
