using CitySight.Domain;
using CitySight.Imaging;

namespace CitySight.Inference.Tests;

public class PictureTapTests
{
    private static Camera Cam(string id) => new() { Id = id, Name = id, GroupId = "g", Url = $"rtsp://h/{id}" };

    [Fact]
    public async Task Every_frame_reaches_the_detector_and_the_first_becomes_the_camera_s_picture_before_it_is_handed_on()
    {
        var boxes = new FrameMailboxes();
        var pictures = new CameraPictures(TimeSpan.FromHours(1));
        var tap = new PictureTap(boxes, pictures);
        var writer = tap.For(Cam("a"), lossless: true);
        var at = DateTimeOffset.UnixEpoch.AddDays(20000);

        // Lossless: the writer waits for the detector, so each frame is taken before the next is written.
        var got = new List<long>();
        var reading = Task.Run(async () =>
        {
            await foreach (var f in boxes.ReadAllAsync())
            {
                got.Add(f.Sequence);
                f.Dispose();
            }
        });
        for (var i = 1; i <= 3; i++) await writer.WriteAsync(Frame.Rent("a", i, at.AddSeconds(i), 64, 48));
        tap.Complete();
        await reading;

        Assert.Equal([1, 2, 3], got);
        var picture = pictures.Latest("a")!;
        Assert.Equal(at.AddSeconds(1), picture.CapturedAt);
        Assert.Equal((64, 48), (picture.Width, picture.Height));
        Assert.Null(pictures.Latest("b"));
    }
}
