using CitySight.Domain;

namespace CitySight.Configuration.Tests;

public class IngestConfigTests
{
    private const string Cam = "  - id: {0}\n    name: C\n    url: rtsp://192.0.2.10/{0}\n    latitude: 31.2\n    longitude: 121.4\n    detectors: [illegal_parking]\n";

    [Fact]
    public void Group_mode_and_decoder_reach_every_camera_with_camera_overrides()
    {
        var cfg = new TestConfig("ingest:\n  max_streams: 2\n  patrol_concurrency: 16\n  snapshot_timeout: 5s\n  max_frame_width: 1280\n");
        cfg.Camera("patrol.yaml", "group:\n  id: p\n  name: P\n  mode: patrol\n  defaults:\n    decoder: vaapi\n    sample_interval: 2m\ncameras:\n"
            + string.Format(Cam, "p1") + string.Format(Cam, "p2") + "    decoder: cpu\n");
        cfg.Camera("street.yaml", "group:\n  id: s\n  name: S\ncameras:\n" + string.Format(Cam, "s1"));

        var result = cfg.Load();

        Assert.True(result.Success, TestConfig.AllErrors(result));
        var c = result.Config!;
        Assert.Equal(2, c.Ingest.MaxStreams);
        Assert.Equal(16, c.Ingest.PatrolConcurrency);
        Assert.Equal(TimeSpan.FromSeconds(5), c.Ingest.SnapshotTimeout);
        Assert.Equal(1280, c.Ingest.MaxFrameWidth);
        var cams = c.Cameras.ToDictionary(x => x.Id);
        Assert.Equal(IngestMode.Patrol, cams["p1"].Mode);
        Assert.Equal(DecoderKind.Vaapi, cams["p1"].Decoder);
        Assert.Equal(TimeSpan.FromMinutes(2), cams["p1"].SampleInterval);
        Assert.Equal(DecoderKind.Cpu, cams["p2"].Decoder);
        Assert.Equal(IngestMode.Continuous, cams["s1"].Mode);
    }

    [Fact]
    public void An_unknown_mode_or_decoder_names_file_line_and_the_allowed_words()
    {
        var cfg = new TestConfig();
        var yaml = "group:\n  id: p\n  name: P\n  mode: rotate #<mode\ncameras:\n" + string.Format(Cam, "p1") + "    decoder: nvdec #<dec\n";
        var path = cfg.Camera("bad.yaml", yaml);

        var result = cfg.Load();

        var mode = TestConfig.Single(result, "group.mode");
        Assert.Equal(path, mode.File);
        Assert.Equal(TestConfig.LineOf(yaml, "#<mode"), mode.Line);
        Assert.Contains("continuous, patrol", mode.Message);
        var dec = TestConfig.Single(result, "cameras[0].decoder");
        Assert.Equal(TestConfig.LineOf(yaml, "#<dec"), dec.Line);
        Assert.Contains("cpu, cuda, vaapi, qsv", dec.Message);
    }

    [Fact]
    public void Ingest_limits_are_checked()
    {
        var yaml = "ingest:\n  patrol_concurrency: 0 #<\n";
        var result = new TestConfig(yaml).Load();
        var e = TestConfig.Single(result, "ingest.patrol_concurrency");
        Assert.Equal(TestConfig.LineOf(yaml, "#<"), e.Line);
    }
}
