using CitySight.Domain;

namespace CitySight.Inference.Tests;

public class FrameMailboxesTests
{
    private static Camera Cam(string id) => new() { Id = id, Name = id, GroupId = "g", Url = $"rtsp://h/{id}" };
    private static Frame F(string cam, long seq) => Frame.Rent(cam, seq, DateTimeOffset.UnixEpoch.AddSeconds(seq), 4, 4);

    private static async Task<List<Frame>> Drain(FrameMailboxes boxes)
    {
        boxes.Complete();
        var got = new List<Frame>();
        await foreach (var f in boxes.ReadAllAsync()) got.Add(f);
        return got;
    }

    [Fact]
    public async Task The_newest_frame_of_a_camera_wins_and_the_replaced_ones_are_returned_to_the_pool()
    {
        var boxes = new FrameMailboxes();
        var w = boxes.For(Cam("a"), lossless: false);
        var old1 = F("a", 1);
        var old2 = F("a", 2);
        await w.WriteAsync(old1);
        await w.WriteAsync(old2);
        await w.WriteAsync(F("a", 3));

        var got = await Drain(boxes);

        Assert.Equal([3L], got.Select(f => f.Sequence));
        Assert.Throws<ObjectDisposedException>(() => old1.Buffer);
        Assert.Throws<ObjectDisposedException>(() => old2.Buffer);
    }

    [Fact]
    public async Task Cameras_are_served_in_the_order_they_became_ready_with_at_most_one_frame_each()
    {
        var boxes = new FrameMailboxes();
        var a = boxes.For(Cam("a"), false);
        var b = boxes.For(Cam("b"), false);
        var c = boxes.For(Cam("c"), false);
        await b.WriteAsync(F("b", 1));
        await a.WriteAsync(F("a", 1));
        for (var i = 2; i < 100; i++) await a.WriteAsync(F("a", i));   // a chatty camera
        await c.WriteAsync(F("c", 1));

        var got = await Drain(boxes);

        Assert.Equal(["b", "a", "c"], got.Select(f => f.CameraId));
        Assert.Equal(99, got[1].Sequence);
    }

    [Fact]
    public async Task A_lossless_camera_waits_for_its_slot_instead_of_dropping()
    {
        var boxes = new FrameMailboxes();
        var w = boxes.For(Cam("replay"), lossless: true);
        await w.WriteAsync(F("replay", 1));
        var second = w.WriteAsync(F("replay", 2)).AsTask();
        Assert.False(second.IsCompleted);

        await using var reader = boxes.ReadAllAsync().GetAsyncEnumerator();
        Assert.True(await reader.MoveNextAsync());
        Assert.Equal(1, reader.Current.Sequence);
        await second.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(await reader.MoveNextAsync());
        Assert.Equal(2, reader.Current.Sequence);
    }
}
