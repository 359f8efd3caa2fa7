using CitySight.Domain;
using CitySight.Imaging;
using CitySight.Tests;

namespace CitySight.Inference.Tests;

/// <summary>
/// A city's own model beside the model-free static-object pass (models/README.md, "A trained model for garbage, stalls
/// or billboards"): a manifest entry mapping one of its classes to garbage. What the model knows is garbage by the
/// model and masked from the pass; what it does not know is still found by the pass: one pile, one detection.
/// </summary>
public class TrainedGarbageModelTests
{
    [Fact]
    public async Task A_class_mapped_to_garbage_raises_garbage_beside_the_static_pass_and_is_never_also_a_static_object()
    {
        // yolov8n stands in for the city's trained export: the same file under an entry written as the README says,
        // with its class 'cat' standing in for the city's 'pile' and mapped to garbage.
        var coco = ModelManifest.Load(Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml")).Get("yolov8n-coco-int8");
        var manifest = ModelManifest.Parse($"""
            models:
              - name: city-objects
                file: {coco.File}
                input: {"{"} width: 640, height: 640, colour: rgb, scale: 1/255, resize: letterbox, pad: 114 {"}"}
                output: {"{"} layout: auto {"}"}
                classes: [{string.Join(", ", coco.Classes.Select(c => $"'{c}'"))}]
                case_types:
                  garbage: [cat]
            """, "city-manifest.yaml");
        var spec = manifest.Get("city-objects");
        await using var model = new BatchingDetector(spec, TestAssets.Model(spec.File), new DetectorOptions());
        var camera = new Camera { Id = "cam-street", Name = "street", GroupId = "g", Url = "/videos/street.mp4", RealTime = false, Detectors = ["garbage"] };
        var stage = new DetectionStage([model], id => id == camera.Id ? camera : null);

        // A road 1620x720 (bus.jpg's own tarmac, its bottom 180 rows, tiled) every 5 s. From 20 s on two things lie on
        // it: the cat of coco-sample-4.jpg (the model's "pile", at its own size) and a checkered block nothing in COCO names.
        // A plain road because the pass normalises by the median of the cells no model box covers: in a frame that is
        // mostly masked (bus.jpg's bus and people), a new box over the few clear cells shifts it and blinds the pass.
        using var photo = EvidenceImage.LoadFrame(TestAssets.Media("bus.jpg"), camera.Id);
        using var catPhoto = EvidenceImage.LoadFrame(TestAssets.Media("coco-sample-4.jpg"), camera.Id);
        var known = (X: 500, Y: 250, W: 502, H: 272);
        var unknown = (X: 1200, Y: 420, W: 120, H: 80);
        var got = await DetectionStageRun.PlayAsync(stage, camera, 19, seq =>
        {
            var f = Frame.Rent(camera.Id, seq, DateTimeOffset.UnixEpoch.AddSeconds(5 * seq), 1620, 720);
            for (var y = 0; y < f.Height; y++)
                for (var x = 0; x < f.Width; x += photo.Width)
                {
                    var width = Math.Min(photo.Width, f.Width - x);
                    photo.Bgr.Slice(((photo.Height - 180 + y % 180) * photo.Width) * 3, width * 3).CopyTo(f.Bgr.Slice((y * f.Width + x) * 3));
                }
            if (5 * seq >= 20)
            {
                // The cat's box in that photo, copied to its place here.
                PasteScaled(catPhoto, (126, 149, 502, 272), f, known);
                // Brighter than the tarmac on average.
                DetectionStageRun.Checker(f, unknown.X, unknown.Y, unknown.W, unknown.H, light: 250, dark: 160);
            }
            return f;
        });
        Assert.Equal(19, got.Count);
        foreach (var d in got)
        {
            var seconds = (d.Frame.CaptureTime - DateTimeOffset.UnixEpoch).TotalSeconds;
            var garbage = d.Detections.Where(x => x.CaseType == "garbage").ToList();
            var onKnown = garbage.Where(x => Covers(x.Box, known)).ToList();
            var onUnknown = garbage.Where(x => Covers(x.Box, unknown)).ToList();
            if (seconds < 20)
            {
                Assert.Empty(garbage);
            }
            else
            {
                // The model's pile: garbage by the model on every frame, and only by it, however long it has lain there.
                var byModel = Assert.Single(onKnown);
                Assert.Equal(("cat", "garbage"), (byModel.ClassName, byModel.CaseType));
                Assert.True(byModel.Confidence >= 0.5f, $"confidence {byModel.Confidence}");
                Assert.DoesNotContain(garbage, x => x.ClassName == "static_object" && x.Box.IoU(byModel.Box) > 0);
                // The unknown block: found by the static pass once it has held still for settle_time (30 s).
                if (seconds >= 50)
                    Assert.Equal("static_object", Assert.Single(onUnknown).ClassName);
                else
                    Assert.Empty(onUnknown);
            }
            d.Frame.Dispose();
        }
    }

    private static bool Covers(Box b, (int X, int Y, int W, int H) r) =>
        b.X1 <= r.X + r.W / 2f && b.X2 >= r.X + r.W / 2f && b.Y1 <= r.Y + r.H / 2f && b.Y2 >= r.Y + r.H / 2f;

    /// <summary>Nearest-neighbour copy of <paramref name="from"/>'s box into <paramref name="to"/>'s box.</summary>
    private static void PasteScaled(Frame from, (int X, int Y, int W, int H) src, Frame to, (int X, int Y, int W, int H) dst)
    {
        var s = from.Bgr;
        var t = to.Bgr;
        for (var y = 0; y < dst.H; y++)
            for (var x = 0; x < dst.W; x++)
            {
                var sx = src.X + x * src.W / dst.W;
                var sy = src.Y + y * src.H / dst.H;
                s.Slice((sy * from.Width + sx) * 3, 3).CopyTo(t.Slice(((dst.Y + y) * to.Width + dst.X + x) * 3, 3));
            }
    }
}
