using CitySight.Domain;

namespace CitySight.Inference.Tests;

public class DecoderTests
{
    private const int Classes = 3;

    /// <summary>A [1, 4+C, N] YOLOv8 output with the given anchors (cx, cy, w, h, class scores).</summary>
    private static float[] V8(params (float Cx, float Cy, float W, float H, float[] Scores)[] anchors)
    {
        var n = anchors.Length;
        var t = new float[(4 + Classes) * n];
        for (var a = 0; a < n; a++)
        {
            var (cx, cy, w, h, scores) = anchors[a];
            t[a] = cx;
            t[n + a] = cy;
            t[2 * n + a] = w;
            t[3 * n + a] = h;
            for (var c = 0; c < Classes; c++) t[(4 + c) * n + a] = scores[c];
        }
        return t;
    }

    /// <summary>A [1, N, 5+C] YOLOv5 output.</summary>
    private static float[] V5(params (float Cx, float Cy, float W, float H, float Obj, float[] Scores)[] anchors)
    {
        var stride = 5 + Classes;
        var t = new float[stride * anchors.Length];
        for (var a = 0; a < anchors.Length; a++)
        {
            var (cx, cy, w, h, obj, scores) = anchors[a];
            float[] row = [cx, cy, w, h, obj, .. scores];
            row.CopyTo(t, a * stride);
        }
        return t;
    }

    private static List<Candidate> DecodeAndNms(IOutputDecoder d, float[] output, float conf = 0.25f, float iou = 0.45f, int max = 300)
    {
        var candidates = new List<Candidate>();
        d.Decode(output, conf, candidates);
        var kept = new List<Candidate>();
        Nms.Apply(candidates, iou, max, kept);
        return kept;
    }

    [Fact]
    public void YoloV8_decodes_best_class_and_centre_size_to_corners()
    {
        var output = V8(
            (100, 100, 50, 40, [0.1f, 0.9f, 0.2f]),
            (300, 200, 20, 10, [0.05f, 0.1f, 0.2f])); // below threshold
        var candidates = new List<Candidate>();

        new YoloV8Decoder(Classes, 2).Decode(output, 0.25f, candidates);

        var c = Assert.Single(candidates);
        Assert.Equal(1, c.ClassId);
        Assert.Equal(0.9f, c.Score);
        Assert.Equal(new Box(75, 80, 125, 120), c.Box);
    }

    [Fact]
    public void YoloV8_many_anchors_take_the_vector_path_and_agree_with_the_tail()
    {
        // 37 anchors: not a multiple of any vector width, so both loops run.
        var anchors = Enumerable.Range(0, 37)
            .Select(i => (Cx: 10f * i + 5, Cy: 50f, W: 8f, H: 8f, Scores: new[] { i % 3 == 0 ? 0.8f : 0.1f, i % 3 == 1 ? 0.7f : 0.1f, i % 3 == 2 ? 0.6f : 0.1f }))
            .ToArray();
        var candidates = new List<Candidate>();

        new YoloV8Decoder(Classes, anchors.Length).Decode(V8(anchors), 0.25f, candidates);

        Assert.Equal(37, candidates.Count);
        for (var i = 0; i < 37; i++)
        {
            Assert.Equal(i % 3, candidates[i].ClassId);
            Assert.Equal(10f * i + 1, candidates[i].Box.X1);
        }
    }

    [Fact]
    public void YoloV8_with_nms_drops_same_class_overlap_and_keeps_other_class_overlap()
    {
        var output = V8(
            (100, 100, 50, 50, [0f, 0.9f, 0f]),   // kept
            (105, 102, 50, 50, [0f, 0.8f, 0f]),   // same class, IoU ~0.79 with the first: suppressed
            (104, 100, 50, 50, [0f, 0f, 0.7f]),   // same place, other class: kept
            (400, 400, 50, 50, [0f, 0.6f, 0f]),   // same class, far away: kept
            (100, 100, 50, 50, [0.1f, 0.1f, 0.2f])); // under the threshold

        var kept = DecodeAndNms(new YoloV8Decoder(Classes, 5), output);

        Assert.Equal([(1, 0.9f), (2, 0.7f), (1, 0.6f)], kept.Select(k => (k.ClassId, k.Score)));
    }

    [Fact]
    public void YoloV5_score_is_objectness_times_class_score()
    {
        var output = V5(
            (100, 100, 50, 50, 0.9f, [0.1f, 0.5f, 0.2f]),   // 0.45, class 1
            (300, 300, 50, 50, 0.2f, [0.95f, 0f, 0f]),      // obj too low: 0.19
            (500, 100, 40, 20, 0.9f, [0.2f, 0.25f, 0.25f]), // 0.225 < 0.25
            (200, 200, 40, 20, 1.0f, [0f, 0f, 0.8f]));      // 0.8, class 2
        var candidates = new List<Candidate>();

        new YoloV5Decoder(Classes, 4).Decode(output, 0.25f, candidates);

        Assert.Equal(2, candidates.Count);
        Assert.Equal(1, candidates[0].ClassId);
        Assert.Equal(0.45f, candidates[0].Score, 5);
        Assert.Equal(new Box(75, 75, 125, 125), candidates[0].Box);
        Assert.Equal(2, candidates[1].ClassId);
        Assert.Equal(0.8f, candidates[1].Score, 5);
        Assert.Equal(new Box(180, 190, 220, 210), candidates[1].Box);
    }

    [Fact]
    public void YoloV5_with_nms_is_class_aware()
    {
        var output = V5(
            (100, 100, 50, 50, 0.9f, [0.9f, 0f, 0f]),
            (103, 101, 50, 50, 0.9f, [0.8f, 0f, 0f]),  // same class, overlapping: suppressed
            (102, 100, 50, 50, 0.9f, [0f, 0.7f, 0f])); // other class: kept

        var kept = DecodeAndNms(new YoloV5Decoder(Classes, 3), output);

        Assert.Equal([0, 1], kept.Select(k => k.ClassId));
    }

    [Fact]
    public void Decoder_rejects_a_short_output()
    {
        var ex = Assert.Throws<ArgumentException>(() => new YoloV8Decoder(80, 8400).Decode(new float[100], 0.25f, []));
        Assert.Contains("[1,84,8400]", ex.Message);
    }

    [Fact]
    public void Auto_layout_is_told_from_the_shape()
    {
        Assert.IsType<YoloV8Decoder>(OutputDecoders.Create(OutputLayout.Auto, [1, 84, 8400], 80));
        Assert.IsType<YoloV5Decoder>(OutputDecoders.Create(OutputLayout.Auto, [1, 25200, 85], 80));
        var v8 = Assert.IsType<YoloV8Decoder>(OutputDecoders.Create(OutputLayout.YoloV8, [1, 7, 2100], 3));
        Assert.Equal(2100, v8.AnchorCount);
    }

    [Fact]
    public void A_shape_that_fits_no_layout_is_refused_saying_what_was_expected_and_found()
    {
        // An 80-class YOLOv8 output declared with 3 classes.
        var ex = Assert.Throws<ModelMismatchException>(() => OutputDecoders.Create(OutputLayout.Auto, [1, 84, 8400], 3, "output0"));

        Assert.Contains("output0", ex.Message);
        Assert.Contains("[1,84,8400]", ex.Message);
        Assert.Contains("[1, 7, N]", ex.Message);
        Assert.Contains("[1, N, 8]", ex.Message);
    }

    [Fact]
    public void A_shape_that_fits_another_layout_than_declared_is_refused()
    {
        var ex = Assert.Throws<ModelMismatchException>(() => OutputDecoders.Create(OutputLayout.YoloV5, [1, 84, 8400], 80));
        Assert.Contains("[1, N, 85]", ex.Message);
        Assert.DoesNotContain("[1, 84, N]", ex.Message);
    }

    [Fact]
    public void A_shape_that_fits_both_layouts_asks_for_an_explicit_layout()
    {
        var ex = Assert.Throws<ModelMismatchException>(() => OutputDecoders.Create(OutputLayout.Auto, [1, 7, 8], 3));
        Assert.Contains("output.layout", ex.Message);
    }
}

public class NmsTests
{
    private static Candidate C(int cls, float score, float x) => new(cls, score, new Box(x, 0, x + 10, 10));

    [Fact]
    public void Keeps_best_first_and_suppresses_only_within_a_class()
    {
        List<Candidate> candidates = [C(0, 0.5f, 1), C(0, 0.9f, 0), C(1, 0.8f, 0), C(1, 0.3f, 100)];
        var kept = new List<Candidate>();

        Nms.Apply(candidates, 0.45f, 300, kept);

        Assert.Equal([(0, 0.9f), (1, 0.8f), (1, 0.3f)], kept.Select(k => (k.ClassId, k.Score)));
    }

    [Fact]
    public void Threshold_decides_whether_an_overlap_suppresses()
    {
        // Boxes shifted by 2 of 10 px: IoU = 8/12 ≈ 0.667.
        List<Candidate> Pair() => [C(0, 0.9f, 0), C(0, 0.8f, 2)];
        var strict = new List<Candidate>();
        var loose = new List<Candidate>();

        Nms.Apply(Pair(), 0.6f, 300, strict);
        Nms.Apply(Pair(), 0.7f, 300, loose);

        Assert.Single(strict);
        Assert.Equal(2, loose.Count);
    }

    [Fact]
    public void Stops_at_max_detections_keeping_the_best()
    {
        var candidates = Enumerable.Range(0, 10).Select(i => C(0, i / 10f, i * 50)).ToList();
        var kept = new List<Candidate>();

        Nms.Apply(candidates, 0.45f, 3, kept);

        Assert.Equal([0.9f, 0.8f, 0.7f], kept.Select(k => k.Score));
    }
}
