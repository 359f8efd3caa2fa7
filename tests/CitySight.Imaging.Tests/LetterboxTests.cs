using CitySight.Domain;
using CitySight.Tests;
using OpenCvSharp;

namespace CitySight.Imaging.Tests;

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

    public static TheoryData<string, ResizeMode, int> Photos => new()
    {
        { "bus.jpg", ResizeMode.Letterbox, 640 },
        { "bus.jpg", ResizeMode.Stretch, 640 },
        { "bus.jpg", ResizeMode.LetterboxTopLeft, 416 },
        { "gradient1080p", ResizeMode.Letterbox, 640 },
        { "gradient1080p", ResizeMode.Stretch, 640 },
        { "gradient1080p", ResizeMode.LetterboxTopLeft, 416 },
        { "gradient1080p", ResizeMode.Stretch, 320 },
        { "gradient400x300", ResizeMode.Letterbox, 640 }, // enlarging
    };

    [Theory]
    [MemberData(nameof(Photos))]
    public void Matches_opencv_linear_resize_and_pad_within_a_grey_level(string picture, ResizeMode mode, int size)
    {
        var (bgr, width, height) = Picture(picture);
        var spec = new PreprocessSpec(size, size, mode, ChannelOrder.Rgb, 1f / 255);
        using var lb = new Letterboxer(spec);
        var chw = new float[lb.TensorLength];

        lb.Process(bgr, width, height, chw);
        var reference = OpenCvReference(bgr, width, height, spec);

        // In grey levels: OpenCV works in 11-bit fixed point and rounds to bytes, the fused pass keeps floats.
        double sum = 0, max = 0;
        for (var i = 0; i < chw.Length; i++)
        {
            var d = Math.Abs(chw[i] - reference[i]) * 255;
            sum += d;
            max = Math.Max(max, d);
        }
        var mean = sum / chw.Length;
        Assert.True(mean < 1, $"mean |difference| {mean:F3} grey levels");
        Assert.True(max <= 2, $"max |difference| {max:F3} grey levels");
    }

    [Fact]
    public void A_batch_slot_is_rewritten_whole_whatever_it_held()
    {
        using var lb = new Letterboxer(new PreprocessSpec(64, 64, ResizeMode.Letterbox, ChannelOrder.Rgb, 1f));
        var n = lb.TensorLength;
        var batch = new float[2 * n];
        Array.Fill(batch, float.NaN);
        var (wide, ww, wh) = Picture("gradient1080p");
        var (tall, tw, th) = (RedBlue(100, 300), 100, 300);

        // Slot 1 first with a wide frame, then slot 0 and slot 1 again with a tall one: the sizes alternate.
        lb.Process(wide, ww, wh, batch.AsSpan(n, n));
        var t = lb.Process(tall, tw, th, batch.AsSpan(0, n));
        lb.Process(tall, tw, th, batch.AsSpan(n, n));

        Assert.DoesNotContain(batch, float.IsNaN);
        var fresh = new float[n];
        using (var other = new Letterboxer(lb.Spec)) other.Process(tall, tw, th, fresh);
        Assert.Equal(fresh, batch[..n]);
        Assert.Equal(fresh, batch[n..]);
        // Tall into a square: padding left and right, every plane.
        Assert.True(t.PadLeft > 0);
        for (var p = 0; p < 3; p++)
        {
            Assert.Equal(114f, At(batch, p, 0, 10));
            Assert.Equal(114f, At(batch, p, t.PadLeft - 1, 40));
            Assert.Equal(114f, At(batch, p, t.PadLeft + t.ResizedWidth, 40));
            Assert.Equal(114f, At(batch, p, 63, 63));
        }
    }

    [Fact]
    public void Steady_state_allocates_nothing_even_when_sizes_alternate()
    {
        using var lb = new Letterboxer(new PreprocessSpec(640, 640, ResizeMode.Letterbox, ChannelOrder.Rgb, 1f / 255));
        var n = lb.TensorLength;
        var batch = new float[2 * n];
        var (hd, hw, hh) = Picture("gradient1080p");
        var small = RedBlue(640, 480);
        for (var i = 0; i < 20; i++) Run(i);

        var allocated = SteadyState.AllocatedBytes(Run, times: 100);

        Assert.Equal(0, allocated);

        void Run(int i)
        {
            var slot = batch.AsSpan(i % 2 * n, n);
            if (i % 2 == 0) lb.Process(hd, hw, hh, slot);
            else lb.Process(small, 640, 480, slot);
        }
    }

    // bus.jpg, or a 3-channel pattern: smooth ramps plus a sawtooth whose sharp edges show sampling offsets.
    private static (byte[] Bgr, int Width, int Height) Picture(string name)
    {
        if (name.EndsWith(".jpg"))
        {
            using var frame = EvidenceImage.LoadFrame(TestAssets.Media(name), "t");
            return (frame.Bgr.ToArray(), frame.Width, frame.Height);
        }
        var (w, h) = name == "gradient1080p" ? (1920, 1080) : (400, 300);
        var bgr = new byte[w * h * 3];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                var i = (y * w + x) * 3;
                bgr[i] = (byte)(x * 255 / (w - 1));
                bgr[i + 1] = (byte)(y * 255 / (h - 1));
                bgr[i + 2] = (byte)((x + 2 * y) * 7 % 256);
            }
        return (bgr, w, h);
    }

    // What Letterboxer did before the fused pass: Cv2.Resize (INTER_LINEAR) into a padded canvas, then de-interleave.
    private static unsafe float[] OpenCvReference(byte[] bgr, int width, int height, PreprocessSpec spec)
    {
        var t = LetterboxTransform.Create(width, height, spec.Width, spec.Height, spec.Resize);
        using var canvas = new Mat(spec.Height, spec.Width, MatType.CV_8UC3, Scalar.All(spec.Pad));
        using (var roi = new Mat(canvas, new Rect(t.PadLeft, t.PadTop, t.ResizedWidth, t.ResizedHeight)))
        fixed (byte* p = bgr)
        {
            using var src = Mat.FromPixelData(height, width, MatType.CV_8UC3, (IntPtr)p);
            Cv2.Resize(src, roi, new Size(t.ResizedWidth, t.ResizedHeight), 0, 0, InterpolationFlags.Linear);
        }
        var pixels = new ReadOnlySpan<byte>((void*)canvas.Data, spec.TensorLength);
        var chw = new float[spec.TensorLength];
        Letterboxer.WriteChw(pixels, chw, spec.Channels, spec.Scale);
        return chw;
    }

    [Fact]
    public void Rejects_a_buffer_smaller_than_the_frame()
    {
        using var lb = new Letterboxer(new PreprocessSpec(64, 64));
        var ex = Assert.Throws<ArgumentException>(() => lb.Process(new byte[100], 200, 100, new float[lb.TensorLength]));
        Assert.Contains("200x100", ex.Message);
    }
}
