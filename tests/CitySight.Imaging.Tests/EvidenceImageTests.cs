using CitySight.Domain;
using CitySight.Tests;
using OpenCvSharp;

namespace CitySight.Imaging.Tests;

public class EvidenceImageTests
{
    [Fact]
    public void Annotated_jpeg_has_the_frame_size_and_a_red_box_and_leaves_the_frame_alone()
    {
        const int w = 320, h = 240;
        var bgr = new byte[w * h * 3];
        Array.Fill(bgr, (byte)40);
        var original = (byte[])bgr.Clone();

        var jpeg = EvidenceImage.EncodeAnnotatedJpeg(bgr, w, h, [(new Box(100, 120, 200, 220), "car 0.87")]);

        Assert.Equal(original, bgr);
        Assert.Equal([0xFF, 0xD8], jpeg[..2]);
        using var decoded = Cv2.ImDecode(jpeg, ImreadModes.Color);
        Assert.Equal((w, h), (decoded.Width, decoded.Height));
        // Middle of the left edge: red (BGR). JPEG is lossy, so compare loosely.
        var edge = decoded.At<Vec3b>(170, 100);
        Assert.True(edge.Item2 > 180 && edge.Item0 < 80 && edge.Item1 < 80, $"edge pixel {edge.Item0},{edge.Item1},{edge.Item2}");
        // Inside the box the frame is untouched.
        var inside = decoded.At<Vec3b>(200, 150);
        Assert.InRange(inside.Item2, 30, 50);
    }

    [Fact]
    public void Labels_with_non_ascii_text_and_boxes_past_the_edge_still_encode()
    {
        var bgr = new byte[64 * 48 * 3];
        var jpeg = EvidenceImage.EncodeAnnotatedJpeg(bgr, 64, 48, [(new Box(-10, -10, 100, 100), "机动车 car")], quality: 50);

        using var decoded = Cv2.ImDecode(jpeg, ImreadModes.Color);
        Assert.Equal((64, 48), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void LoadFrame_decodes_bus_jpg_into_a_pooled_bgr_frame()
    {
        var path = TestAssets.Media("bus.jpg");
        var at = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

        using var frame = EvidenceImage.LoadFrame(path, "cam-1", 7, at);
        using var reference = Cv2.ImRead(path, ImreadModes.Color);

        Assert.Equal(("cam-1", 7L, at), (frame.CameraId, frame.Sequence, frame.CaptureTime));
        Assert.Equal((810, 1080), (frame.Width, frame.Height));
        foreach (var (x, y) in new[] { (0, 0), (405, 540), (809, 1079), (100, 900) })
        {
            var p = reference.At<Vec3b>(y, x);
            var i = (y * frame.Width + x) * 3;
            Assert.Equal((p.Item0, p.Item1, p.Item2), (frame.Bgr[i], frame.Bgr[i + 1], frame.Bgr[i + 2]));
        }
    }

    [Fact]
    public void LoadFrame_names_a_file_it_cannot_read()
    {
        var dir = TestAssets.TempDir("evidence");
        var missing = Path.Combine(dir, "nope.jpg");
        var garbage = Path.Combine(dir, "garbage.jpg");
        File.WriteAllText(garbage, "not a picture");

        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => EvidenceImage.LoadFrame(missing, "c")).Message);
        Assert.Contains(garbage, Assert.Throws<InvalidDataException>(() => EvidenceImage.LoadFrame(garbage, "c")).Message);
    }
}
