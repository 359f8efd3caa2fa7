using CitySight.Domain;
using CitySight.Imaging;
using CitySight.Tests;
using OpenCvSharp;

namespace CitySight.Cases.Tests;

/// <summary>The crop a case keeps beside its annotated frame, made from a real picture.</summary>
public sealed class EvidenceCropTests
{
    [Fact]
    public void The_crop_shows_the_object_with_some_of_its_surroundings()
    {
        using var frame = EvidenceImage.LoadFrame(TestAssets.Media("bus.jpg"), "cam");
        var bus = new Box(30, 230, 800, 760);

        var jpeg = EvidenceImage.EncodeCropJpeg(frame.Bgr, frame.Width, frame.Height, bus);

        using var crop = Cv2.ImDecode(jpeg, ImreadModes.Color);
        // 25 % margin each side, cut by the frame edges (810 wide): the whole width, and 1.5x the height.
        Assert.Equal(frame.Width, crop.Width);
        Assert.Equal((int)Math.Ceiling(495 + 530 * 0.75f) - (int)Math.Floor(495 - 530 * 0.75f), crop.Height);
        // A tiny box still gives a picture an officer can see.
        var tiny = EvidenceImage.EncodeCropJpeg(frame.Bgr, frame.Width, frame.Height, new Box(400, 500, 404, 503));
        using var tinyCrop = Cv2.ImDecode(tiny, ImreadModes.Color);
        Assert.True(tinyCrop.Width >= 64 && tinyCrop.Height >= 64);
    }
}
