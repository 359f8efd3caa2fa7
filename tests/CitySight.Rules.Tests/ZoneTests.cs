using CitySight.Domain;

namespace CitySight.Rules.Tests;

public class ZoneTests
{
    private static readonly Zone Triangle = new("t", [new(0.1, 0.1), new(0.9, 0.1), new(0.5, 0.9)], ["garbage"]);

    [Theory]
    [InlineData(0.5, 0.3, true)]
    [InlineData(0.5, 0.95, false)]
    [InlineData(0.15, 0.8, false)]
    [InlineData(0.05, 0.05, false)]
    public void Point_in_polygon(double x, double y, bool inside) =>
        Assert.Equal(inside, Triangle.Contains(new NormalisedPoint(x, y)));

    [Fact]
    public void Camera_without_zones_allows_the_whole_frame_and_with_zones_only_inside()
    {
        var cam = new Camera { Id = "c", Name = "c", GroupId = "g", Url = "u" };
        Assert.Equal("", cam.ZoneFor("garbage", new(0.99, 0.99)));
        var zoned = cam with { Zones = [Triangle] };
        Assert.Equal("t", zoned.ZoneFor("garbage", new(0.5, 0.3)));
        Assert.Null(zoned.ZoneFor("garbage", new(0.5, 0.95)));
        Assert.Null(zoned.ZoneFor("billboard", new(0.5, 0.3)));
    }

    [Theory]
    [InlineData("rtsp://admin:s3cret@10.0.0.5:554/stream1", "rtsp://admin:***@10.0.0.5:554/stream1")]
    [InlineData("rtsp://10.0.0.5/stream1", "rtsp://10.0.0.5/stream1")]
    [InlineData("rtsp://admin:p@ss@10.0.0.5/s", "rtsp://admin:***@10.0.0.5/s")]
    [InlineData("/videos/a.mp4", "/videos/a.mp4")]
    public void Urls_are_redacted(string url, string expected) => Assert.Equal(expected, Secrets.RedactUrl(url));

    [Fact]
    public void Scrub_removes_the_password_from_free_text()
    {
        const string url = "rtsp://admin:p%40ss@10.0.0.5/s";
        var text = Secrets.Scrub($"[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized {url} p@ss", url);
        Assert.DoesNotContain("p@ss", text);
        Assert.DoesNotContain("p%40ss", text);
    }
}
