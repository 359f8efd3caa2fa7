using CitySight.Cases;
using CitySight.Cases.Sqlite;
using CitySight.Domain;
using CitySight.Tests;
using CitySight.Tracking;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;

namespace CitySight.Rules.Tests;

/// <summary>
/// The pictures a case is raised with, through the case-raising stage into the real store: every case gets the
/// captioned frame; a static object (garbage) also the scene before it came beside the frame that raised it.
/// </summary>
public sealed class CaseEvidenceTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 10, 0, 0, TimeSpan.FromHours(8));
    private static readonly Box Pile = new(300, 380, 380, 440);
    private const int W = 640, H = 480;

    private static Camera Cam(params string[] detectors) => new()
    {
        Id = "cam-1", Name = "East gate", GroupId = "g", Url = "rtsp://192.0.2.1/cam-1", Detectors = detectors,
        Zones = [new Zone("pavement", [new(0, 0.5), new(1, 0.5), new(1, 1), new(0, 1)], detectors)],
    };

    /// <summary>
    /// A grey street sampled every 5 s; from 60 s a red pile lies at <see cref="Pile"/>, which the static-object pass
    /// reports from 100 s (after settling), as <paramref name="type"/> with class <paramref name="className"/>.
    /// Returns the one case raised and the store holding it.
    /// </summary>
    private static async Task<(Case Case, SqliteCaseStore Store)> RaiseAsync(string type, string className)
    {
        var camera = Cam(type);
        var rules = new RuleOptions
        {
            ConfirmSamples = 2,
            BeforeViewInterval = TimeSpan.FromSeconds(30),
            CaseTypes = new Dictionary<string, CaseTypeRuleOverrides> { [type] = new() { MinDwell = TimeSpan.FromMinutes(2), RequireStationary = true } },
        };
        var store = new SqliteCaseStore(Path.Combine(TestAssets.TempDir("evidence"), "data"));
        var tracking = new TrackingStage([camera], new TrackerOptions());
        var raiser = new CaseRaiser(store, rules, new SiteDedupOptions(), [new CameraGroup { Id = "g", Name = "G", Cameras = [camera] }],
            CaseType.Defaults, NullLogger.Instance);
        for (var s = 0; s <= 300; s += 5)
        {
            var frame = Frame.Rent(camera.Id, s, T0.AddSeconds(s), W, H);
            frame.Bgr.Fill(128);
            if (s >= 60) Paint(frame, Pile, (20, 20, 230));
            Detection[] found = s >= 100 ? [new Detection(-1, className, 0.8f, Pile, type)] : [];
            using var tracked = tracking.Track(new DetectedFrame(frame, found, TimeSpan.Zero))!;
            await raiser.RaiseAsync(tracked, CancellationToken.None);
        }
        var cases = await store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true);
        return (Assert.Single(cases), store);
    }

    private static void Paint(Frame f, Box b, (byte B, byte G, byte R) c)
    {
        for (var y = (int)b.Y1; y < (int)b.Y2; y++)
            for (var x = (int)b.X1; x < (int)b.X2; x++)
            {
                var i = (y * f.Width + x) * 3;
                (f.Bgr[i], f.Bgr[i + 1], f.Bgr[i + 2]) = c;
            }
    }

    [Fact]
    public async Task A_garbage_case_keeps_the_scene_before_the_pile_came_beside_the_frame_that_raised_it()
    {
        var (c, store) = await RaiseAsync("garbage", ModelFreeTypes.StaticObjectClass);
        using (store)
        {
            var pair = await store.GetEvidenceAsync(c.Id, EvidenceView.BeforeAfter);
            Assert.NotNull(pair);
            using var image = Cv2.ImDecode(pair, ImreadModes.Color);
            // The before view (remembered 480 wide) scaled to the frame's height, a gap, the frame itself; the caption below.
            Assert.InRange(image.Width, 2 * W, 2 * W + 16);
            Assert.True(image.Height > H, $"no caption band: {image.Width}x{image.Height}");
            var cx = (int)((Pile.X1 + Pile.X2) / 2);
            var cy = (int)((Pile.Y1 + Pile.Y2) / 2);
            var before = image.At<Vec3b>(cy, cx);
            var after = image.At<Vec3b>(cy, image.Width - W + cx);
            // Before: the grey street (the view taken before 60 s); after: the red pile.
            Assert.True(Math.Abs(before.Item2 - 128) < 30 && Math.Abs(before.Item0 - 128) < 30, $"before {before}");
            Assert.True(after.Item2 > 180 && after.Item0 < 90, $"after {after}");
        }
    }

    [Fact]
    public async Task Every_case_is_captioned_below_its_frame_and_only_a_static_object_gets_a_before_after_pair()
    {
        var (c, store) = await RaiseAsync("illegal_parking", "car");
        using (store)
        {
            Assert.Null(await store.GetEvidenceAsync(c.Id, EvidenceView.BeforeAfter));
            using var best = Cv2.ImDecode((await store.GetEvidenceAsync(c.Id))!, ImreadModes.Color);
            Assert.Equal(W, best.Width);
            Assert.True(best.Height > H, $"no caption band: {best.Width}x{best.Height}");
        }
    }
}
