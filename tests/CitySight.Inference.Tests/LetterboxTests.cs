using CitySight.Domain;
using CitySight.Imaging;

namespace CitySight.Inference.Tests;

public class LetterboxTransformTests
{
    [Fact]
    public void Centred_portrait_is_padded_left_and_right_evenly()
    {
        // bus.jpg's size into a 640 square
        var t = LetterboxTransform.Create(810, 1080, 640, 640, ResizeMode.Letterbox);

        Assert.Equal((480, 640), (t.ResizedWidth, t.ResizedHeight));
        Assert.Equal((80, 0), (t.PadLeft, t.PadTop));
        Assert.Equal((80f, 0f), t.ToModel(0, 0));
        Assert.Equal((560f, 640f), t.ToModel(810, 1080));
        Assert.Equal((320f, 320f), t.ToModel(405, 540));
    }

    [Fact]
    public void Centred_landscape_is_padded_top_and_bottom_with_the_odd_pixel_at_the_bottom()
    {
        var t = LetterboxTransform.Create(1920, 1080, 640, 640, ResizeMode.Letterbox);
        Assert.Equal((640, 360, 0, 140), (t.ResizedWidth, t.ResizedHeight, t.PadLeft, t.PadTop));

        // 640x481 leaves 159 rows: 79 on top, 80 below (Ultralytics' round(d/2 - 0.1)).
        var odd = LetterboxTransform.Create(640, 481, 640, 640, ResizeMode.Letterbox);
        Assert.Equal(79, odd.PadTop);
        Assert.Equal(560f, odd.ToModel(0, 481).Y);
    }

    [Fact]
    public void Top_left_keeps_the_picture_at_the_origin()
    {
        var t = LetterboxTransform.Create(1920, 1080, 416, 416, ResizeMode.LetterboxTopLeft);

        Assert.Equal((0, 0), (t.PadLeft, t.PadTop));
        Assert.Equal(416, t.ResizedWidth);
        Assert.Equal(234, t.ResizedHeight); // 1080 * 416/1920 = 234
        var (x, y) = t.ToModel(960, 540);
        Assert.Equal(208f, x, 3);
        Assert.Equal(117f, y, 3);
    }

    [Fact]
    public void Stretch_scales_each_axis_on_its_own()
    {
        var t = LetterboxTransform.Create(1920, 1080, 352, 352, ResizeMode.Stretch);

        Assert.Equal((0, 0), (t.PadLeft, t.PadTop));
        Assert.Equal(352f / 1920, t.ScaleX, 6);
        Assert.Equal(352f / 1080, t.ScaleY, 6);
        var (x, y) = t.ToModel(1920, 1080);
        Assert.Equal(352f, x, 3);
        Assert.Equal(352f, y, 3);
    }

    [Theory]
    [InlineData(ResizeMode.Letterbox)]
    [InlineData(ResizeMode.LetterboxTopLeft)]
    [InlineData(ResizeMode.Stretch)]
    public void Points_and_boxes_map_forward_and_back(ResizeMode mode)
    {
        var t = LetterboxTransform.Create(1280, 720, 640, 640, mode);
        var box = new Box(100.5f, 33f, 900f, 700f);

        var back = t.ToSource(t.ToModel(box));

        Assert.Equal(box.X1, back.X1, 2);
        Assert.Equal(box.Y1, back.Y1, 2);
        Assert.Equal(box.X2, back.X2, 2);
        Assert.Equal(box.Y2, back.Y2, 2);
    }

    [Fact]
    public void Box_back_in_source_is_clamped_to_the_image()
    {
        var t = LetterboxTransform.Create(810, 1080, 640, 640, ResizeMode.Letterbox);

        // Reaches into the left padding and past the bottom edge.
        var b = t.ToSource(new Box(60, 600, 200, 700));

        Assert.Equal(0f, b.X1);
        Assert.Equal(1080f, b.Y2);
        Assert.Equal((200 - 80) / t.ScaleX, b.X2, 2);
        Assert.Equal(600 / t.ScaleY, b.Y1, 2);
    }
}

public class LetterboxerTests
{
    // 200x100 BGR picture: left half pure red, right half pure blue.
    private static byte[] RedBlue(int width = 200, int height = 100)
    {
        var bgr = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var i = (y * width + x) * 3;
                if (x < width / 2) bgr[i + 2] = 255; else bgr[i] = 255;
            }
        return bgr;
    }

    private static float At(float[] chw, int plane, int x, int y, int w = 64, int h = 64) => chw[plane * w * h + y * w + x];

    [Fact]
    public void Centred_letterbox_writes_rgb_planes_scaled_with_grey_padding()
    {
        using var lb = new Letterboxer(new PreprocessSpec(64, 64, ResizeMode.Letterbox, ChannelOrder.Rgb, 1f / 255));
        var chw = new float[lb.TensorLength];

        var t = lb.Process(RedBlue(), 200, 100, chw);

        Assert.Equal((64, 32, 0, 16), (t.ResizedWidth, t.ResizedHeight, t.PadLeft, t.PadTop));
        // Red half: plane 0 is R in RGB order.
        Assert.Equal(1f, At(chw, 0, 5, 32), 3);
        Assert.Equal(0f, At(chw, 2, 5, 32), 3);
        // Blue half.
        Assert.Equal(0f, At(chw, 0, 60, 32), 3);
        Assert.Equal(1f, At(chw, 2, 60, 32), 3);
        // Padding above and below, every plane.
        for (var p = 0; p < 3; p++)
        {
            Assert.Equal(114f / 255, At(chw, p, 30, 3), 4);
            Assert.Equal(114f / 255, At(chw, p, 30, 60), 4);
        }
    }

    [Fact]
    public void Top_left_letterbox_in_bgr_0_to_255_pads_only_the_bottom()
    {
        using var lb = new Letterboxer(new PreprocessSpec(64, 64, ResizeMode.LetterboxTopLeft, ChannelOrder.Bgr, 1f, Pad: 114));
        var chw = new float[lb.TensorLength];

        lb.Process(RedBlue(), 200, 100, chw);

        // Plane 2 is R in BGR order; the picture fills rows 0..31.
        Assert.Equal(255f, At(chw, 2, 5, 2));
        Assert.Equal(0f, At(chw, 0, 5, 2));
        Assert.Equal(255f, At(chw, 0, 60, 2));
        Assert.Equal(114f, At(chw, 1, 30, 40));
        Assert.Equal(114f, At(chw, 0, 30, 63));
    }

    [Fact]
    public void Stretch_fills_the_whole_input()
    {
        using var lb = new Letterboxer(new PreprocessSpec(64, 64, ResizeMode.Stretch, ChannelOrder.Rgb, 1f));
        var chw = new float[lb.TensorLength];

        lb.Process(RedBlue(), 200, 100, chw);

        Assert.Equal(255f, At(chw, 0, 2, 0));
        Assert.Equal(255f, At(chw, 2, 61, 63));
        Assert.DoesNotContain(114f, chw);
    }

    [Fact]
    public void A_frame_of_another_size_repaints_the_padding()
    {
        using var lb = new Letterboxer(new PreprocessSpec(64, 64, ResizeMode.Letterbox, ChannelOrder.Rgb, 1f));
        var chw = new float[lb.TensorLength];

        lb.Process(RedBlue(100, 100), 100, 100, chw); // square: fills everything
        lb.Process(RedBlue(200, 100), 200, 100, chw); // wide: rows 0..15 must be padding again

        Assert.Equal(114f, At(chw, 0, 5, 3));
        Assert.Equal(114f, At(chw, 2, 60, 3));
    }

    [Fact]
    public void WriteChw_deinterleaves_in_either_order()
    {
        byte[] bgr = [1, 2, 3, 4, 5, 6]; // two pixels
        var rgb = new float[6];
        var bgrOut = new float[6];

        Letterboxer.WriteChw(bgr, rgb, ChannelOrder.Rgb, 2f);
        Letterboxer.WriteChw(bgr, bgrOut, ChannelOrder.Bgr, 1f);

        Assert.Equal([6f, 12f, 4f, 10f, 2f, 8f], rgb);
        Assert.Equal([1f, 4f, 2f, 5f, 3f, 6f], bgrOut);
    }

    [Fact]
    public void Rejects_a_buffer_smaller_than_the_frame()
    {
        using var lb = new Letterboxer(new PreprocessSpec(64, 64));
        var ex = Assert.Throws<ArgumentException>(() => lb.Process(new byte[100], 200, 100, new float[lb.TensorLength]));
        Assert.Contains("200x100", ex.Message);
    }
}
