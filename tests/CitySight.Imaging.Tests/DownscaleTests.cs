using CitySight.Tests;

namespace CitySight.Imaging.Tests;

public class DownscaleTests
{
    [Theory]
    [InlineData(1920, 1080, 480, 270)]
    [InlineData(1000, 500, 300, 150)]
    public void Left_half_one_colour_right_half_another_comes_out_so(int width, int height, int dstWidth, int dstHeight)
    {
        var frame = Halves(width, height);
        var dst = new byte[dstWidth * dstHeight * 3];

        EvidenceImage.Downscale(frame, width, height, dst, dstWidth, dstHeight);

        for (var y = 0; y < dstHeight; y += 7)
        {
            // Two pixels either side of the middle may blend; everything else is one half's colour, channels in order.
            for (var x = 0; x < dstWidth / 2 - 1; x++) Assert.Equal((250, 200, 150), Pixel(dst, dstWidth, x, y));
            for (var x = dstWidth / 2 + 1; x < dstWidth; x++) Assert.Equal((0, 0, 10), Pixel(dst, dstWidth, x, y));
        }
    }

    [Fact]
    public void Downscale_allocates_nothing_once_warm()
    {
        var frame = Halves(1920, 1080);
        var dst = new byte[480 * 270 * 3];
        EvidenceImage.Downscale(frame, 1920, 1080, dst, 480, 270);

        var bytes = SteadyState.AllocatedBytes(_ => EvidenceImage.Downscale(frame, 1920, 1080, dst, 480, 270), times: 20);

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void Downscale_names_a_destination_too_small()
    {
        var frame = new byte[64 * 48 * 3];
        var ex = Assert.Throws<ArgumentException>(() => EvidenceImage.Downscale(frame, 64, 48, new byte[10], 16, 12));
        Assert.Equal("dst", ex.ParamName);
    }

    /// <summary>BGR (250,200,150) on the left half, (0,0,10) on the right.</summary>
    private static byte[] Halves(int width, int height)
    {
        var bgr = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var i = (y * width + x) * 3;
                (bgr[i], bgr[i + 1], bgr[i + 2]) = x < width / 2 ? ((byte)250, (byte)200, (byte)150) : ((byte)0, (byte)0, (byte)10);
            }
        return bgr;
    }

    private static (int B, int G, int R) Pixel(byte[] bgr, int width, int x, int y)
    {
        var i = (y * width + x) * 3;
        return (bgr[i], bgr[i + 1], bgr[i + 2]);
    }
}
