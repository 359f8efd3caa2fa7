using CitySight.Domain;
using OpenCvSharp;
using SkiaSharp;

namespace CitySight.Imaging.Tests;

public class EvidencePictureTests
{
    private const int W = 640, H = 360;

    [CjkFontFact]
    public void Caption_draws_chinese_glyphs_not_missing_glyph_boxes()
    {
        // The comparison: the font's missing-glyph box, four times (U+F8FF is private use: no font maps it).
        using (var font = new SKFont(EvidenceCaption.Typeface))
            Assert.False(font.ContainsGlyphs("\uF8FF"), $"{EvidenceCaption.FontSource} maps U+F8FF: pick another missing code point");

        using var chinese = BandOf(["暴露垃圾"]);
        using var tofu = BandOf(["\uF8FF\uF8FF\uF8FF\uF8FF"]);

        // Ink where the text is: white strokes on the dark band.
        var ink = Cv2.CountNonZero(chinese.Threshold(128, 255, ThresholdTypes.Binary));
        Assert.True(ink > 150, $"only {ink} bright pixels in the caption band");
        // Four different characters are not four copies of one box: the renderings differ over many pixels.
        using var diff = new Mat();
        Cv2.Absdiff(chinese, tofu, diff);
        var differing = Cv2.CountNonZero(diff.Threshold(64, 255, ThresholdTypes.Binary));
        Assert.True(differing > ink / 3, $"Chinese and missing-glyph renderings differ in only {differing} pixels (ink {ink})");
    }

    [CjkFontFact]
    public void The_font_setup_installs_is_found_with_its_simplified_chinese_face()
    {
        var noto = EvidenceCaption.WellKnownFontPaths[0];
        Assert.True(File.Exists(noto), $"{noto} missing: scripts/setup.sh installs {EvidenceCaption.FontPackage}");
        Assert.Equal($"{noto} (Noto Sans CJK SC)", EvidenceCaption.FontSource);
    }

    [Fact]
    public void Case_picture_adds_a_band_below_the_frame_and_leaves_the_scene_visible()
    {
        var bgr = Uniform(W, H, 90);
        var original = (byte[])bgr.Clone();
        var sketch = new EvidenceSketch([], [(new Box(100, 120, 200, 220), "机动车 car")], ["暴露垃圾 Exposed garbage", "东门路口 North gate · cam-12"]);

        using var picture = Decode(EvidenceImage.EncodeCaseJpeg(bgr, W, H, sketch));
        using var plain = Decode(EvidenceImage.EncodeCaseJpeg(bgr, W, H, sketch with { Caption = [] }));

        Assert.Equal(original, bgr);
        Assert.Equal(W, picture.Width);
        Assert.InRange(picture.Height - H, 40, 120); // two readable lines, not half the picture
        Assert.Equal((W, H), (plain.Width, plain.Height));
        // The frame's top and bottom rows are the frame, not the band; the band's top row is dark.
        Assert.InRange(picture.At<Vec3b>(2, W - 5).Item1, 80, 100);
        Assert.InRange(picture.At<Vec3b>(H - 1, W - 5).Item1, 80, 100);
        Assert.InRange(picture.At<Vec3b>(H + 1, W - 5).Item1, 0, 40);
        // The mark: red left edge.
        var edge = picture.At<Vec3b>(170, 100);
        Assert.True(edge.Item2 > 180 && edge.Item0 < 80 && edge.Item1 < 80, $"edge pixel {edge}");
    }

    [Fact]
    public void Zone_outline_changes_the_pixels_along_its_edge_and_tints_inside_it()
    {
        var bgr = Uniform(W, H, 90);
        var square = new NormalisedPoint[] { new(0.25, 0.25), new(0.75, 0.25), new(0.75, 0.75), new(0.25, 0.75) };
        using var picture = Decode(EvidenceImage.EncodeCaseJpeg(bgr, W, H, new EvidenceSketch([square], [], [])));

        // Left edge at x = 160, halfway down: amber (BGR ~ 0,191,255) on the grey, blurred a little by JPEG.
        var edge = picture.At<Vec3b>(180, 160);
        Assert.True(edge.Item2 - edge.Item0 > 120 && edge.Item1 - edge.Item0 > 60, $"edge pixel {edge}");
        // Inside: the scene shows through, warmer than outside; outside: untouched.
        var inside = picture.At<Vec3b>(180, 320);
        var outside = picture.At<Vec3b>(180, 40);
        Assert.InRange(outside.Item2 - outside.Item0, -6, 6);
        Assert.True(inside.Item2 - inside.Item0 > 20 && inside.Item1 > 70, $"inside pixel {inside}, outside {outside}");
    }

    [Fact]
    public void Pair_puts_the_scaled_before_view_left_of_the_after_frame_with_the_box_on_both()
    {
        const int bw = 480, bh = 270, aw = 1280, ah = 720;
        var box = new Box(400, 300, 900, 600);
        var sketch = new EvidenceSketch([], [(box, "暴露垃圾")], ["暴露垃圾 Exposed garbage"]);

        using var pair = Decode(EvidenceImage.EncodePairJpeg(
            Uniform(bw, bh, 60), bw, bh, Uniform(aw, ah, 170), aw, ah, sketch, "之前 before 14:01:10", "之后 after 14:13:40"));

        var gap = pair.Width - 2 * aw; // the before view is scaled to 1280x720
        Assert.InRange(gap, 1, 8);
        Assert.InRange(pair.Height - ah, 30, 120);
        var afterLeft = aw + gap;
        // Each half shows its own frame, away from the marks and tags.
        Assert.InRange(pair.At<Vec3b>(650, 1100).Item1, 50, 70);
        Assert.InRange(pair.At<Vec3b>(650, afterLeft + 1100).Item1, 160, 180);
        // The box's left edge, halfway down it, on both halves at the same (scaled) place; inside it the scene.
        foreach (var left in new[] { 0, afterLeft })
        {
            var edge = pair.At<Vec3b>(450, left + 400);
            Assert.True(edge.Item2 > 180 && edge.Item0 < 80 && edge.Item1 < 80, $"edge pixel at x {left + 400}: {edge}");
            Assert.True(pair.At<Vec3b>(450, left + 600).Item2 < 190, $"inside the box at x {left + 600} is red");
            // The tag darkens the top-left corner of each half (to a third of the frame under it).
            var frame = pair.At<Vec3b>(650, left + 1100).Item1;
            Assert.True(pair.At<Vec3b>(3, left + 3).Item1 < frame / 2, $"no tag at x {left + 3}");
        }
    }

    /// <summary>The caption band (grey) of a 640x360 case picture with <paramref name="lines"/>.</summary>
    private static Mat BandOf(IReadOnlyList<string> lines)
    {
        using var picture = Decode(EvidenceImage.EncodeCaseJpeg(Uniform(W, H, 90), W, H, new EvidenceSketch([], [], lines)));
        using var band = new Mat(picture, new Rect(0, H, W, picture.Height - H));
        var grey = new Mat();
        Cv2.CvtColor(band, grey, ColorConversionCodes.BGR2GRAY);
        return grey;
    }

    private static byte[] Uniform(int width, int height, byte value)
    {
        var bgr = new byte[width * height * 3];
        Array.Fill(bgr, value);
        return bgr;
    }

    private static Mat Decode(byte[] jpeg)
    {
        Assert.Equal([0xFF, 0xD8], jpeg[..2]);
        return Cv2.ImDecode(jpeg, ImreadModes.Color);
    }
}
