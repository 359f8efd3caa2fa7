using CitySight.Domain;
using CitySight.Tests;
using OpenCvSharp;

namespace CitySight.Imaging.Tests;

public class CameraPicturesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 9, 0, 0, TimeSpan.FromHours(8));

    [Fact]
    public void A_camera_gets_one_picture_per_interval_and_the_frames_between_are_not_encoded()
    {
        var clock = new StepClock();
        var pictures = new CameraPictures(TimeSpan.FromSeconds(5), time: clock);
        var slot = pictures.SlotFor("cam-1");
        using var first = Bgr("cam-1", 1, T0, 1280, 720);
        using var second = Bgr("cam-1", 2, T0.AddSeconds(1), 1280, 720);
        using var third = Bgr("cam-1", 3, T0.AddSeconds(6), 1280, 720);

        Assert.Null(pictures.Latest("cam-1"));
        Assert.True(slot.Offer(first));
        var taken = pictures.Latest("cam-1")!;
        Assert.Equal(T0, taken.CapturedAt);

        clock.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(slot.Offer(second));
        Assert.Same(taken, pictures.Latest("cam-1"));

        clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(slot.Offer(third));
        Assert.Equal(T0.AddSeconds(6), pictures.Latest("cam-1")!.CapturedAt);
        Assert.Null(pictures.Latest("cam-2"));
    }

    [Fact]
    public void A_frame_offered_before_the_interval_has_passed_allocates_nothing()
    {
        var clock = new StepClock();
        var slot = new CameraPictures(TimeSpan.FromSeconds(5), time: clock).SlotFor("cam-1");
        using var frame = Bgr("cam-1", 1, T0, 1280, 720);
        slot.Offer(frame);

        var bytes = SteadyState.AllocatedBytes(_ => slot.Offer(frame), times: 100);

        Assert.Equal(0, bytes);
    }

    [Theory]
    [InlineData(1920, 1080, 640, 360)]
    [InlineData(640, 480, 640, 480)]
    [InlineData(352, 288, 352, 288)]
    public void The_picture_is_a_jpeg_at_most_640_wide_with_the_frame_s_proportions(int width, int height, int pictureWidth, int pictureHeight)
    {
        var pictures = new CameraPictures(TimeSpan.FromSeconds(5), time: new StepClock());
        using var frame = Bgr("cam-1", 1, T0, width, height);

        pictures.SlotFor("cam-1").Offer(frame);

        var picture = pictures.Latest("cam-1")!;
        using var decoded = Cv2.ImDecode(picture.Jpeg, ImreadModes.Color);
        Assert.Equal((pictureWidth, pictureHeight), (decoded.Width, decoded.Height));
        Assert.Equal((pictureWidth, pictureHeight), (picture.Width, picture.Height));
        // The left half is blue-ish and the right half red-ish, as in the frame (BGR kept in order).
        var left = decoded.At<Vec3b>(pictureHeight / 2, pictureWidth / 4);
        var right = decoded.At<Vec3b>(pictureHeight / 2, pictureWidth * 3 / 4);
        Assert.True(left.Item0 > 200 && left.Item2 < 50, $"left {left.Item0},{left.Item1},{left.Item2}");
        Assert.True(right.Item2 > 200 && right.Item0 < 50, $"right {right.Item0},{right.Item1},{right.Item2}");
    }

    /// <summary>Left half blue, right half red.</summary>
    private static Frame Bgr(string camera, long sequence, DateTimeOffset at, int width, int height)
    {
        var frame = Frame.Rent(camera, sequence, at, width, height);
        var px = frame.Bgr;
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var i = (y * width + x) * 3;
                (px[i], px[i + 1], px[i + 2]) = x < width / 2 ? ((byte)240, (byte)20, (byte)10) : ((byte)10, (byte)20, (byte)240);
            }
        return frame;
    }

    /// <summary>A clock that moves only when told.</summary>
    private sealed class StepClock : TimeProvider
    {
        private long _ticks = 1_000_000;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _ticks;
        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
