using CitySight.Domain;
using CitySight.Tests;

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
        Assert.IsType<YoloV8Decoder>(OutputDecoders.Create(OutputLayout.Auto, [1, 84, 8400], 80, 640, 640));
        Assert.IsType<YoloV5Decoder>(OutputDecoders.Create(OutputLayout.Auto, [1, 25200, 85], 80, 640, 640));
        // A decoded export with another anchor count is still YOLOv5.
        Assert.IsType<YoloV5Decoder>(OutputDecoders.Create(OutputLayout.Auto, [1, 6300, 85], 80, 640, 640));
        var x = Assert.IsType<YoloxDecoder>(OutputDecoders.Create(OutputLayout.Auto, [1, 3549, 85], 80, 416, 416));
        Assert.Equal(3549, x.RowCount);
        var f = Assert.IsType<FastestDetDecoder>(OutputDecoders.Create(OutputLayout.Auto, [1, 85, 22, 24], 80, 352, 352));
        Assert.Equal((24, 22), (f.GridWidth, f.GridHeight));
        var e = Assert.IsType<EndToEndDecoder>(OutputDecoders.Create(OutputLayout.Auto, [1, 300, 6], 80, 640, 640));
        Assert.Equal(300, e.MaxDetections);
        var v8 = Assert.IsType<YoloV8Decoder>(OutputDecoders.Create(OutputLayout.YoloV8, [1, 7, 2100], 3, 320, 320));
        Assert.Equal(2100, v8.AnchorCount);
    }

    [Fact]
    public void The_yolox_grid_depends_on_the_input_size()
    {
        // 3549 rows are YOLOX at 416x416 but just a decoded YOLOv5 output at 640x640 (whose grid has 8400).
        Assert.IsType<YoloV5Decoder>(OutputDecoders.Create(OutputLayout.Auto, [1, 3549, 85], 80, 640, 640));
        Assert.IsType<YoloxDecoder>(OutputDecoders.Create(OutputLayout.Auto, [1, 8400, 85], 80, 640, 640));
        Assert.IsType<YoloxDecoder>(OutputDecoders.Create(OutputLayout.Auto, [1, 40 * 30 + 20 * 15 + 10 * 7, 85], 80, 320, 240));
    }

    [Fact]
    public void With_one_class_a_six_wide_row_is_told_apart_only_by_the_grid()
    {
        Assert.IsType<YoloxDecoder>(OutputDecoders.Create(OutputLayout.Auto, [1, 3549, 6], 1, 416, 416));
        Assert.IsType<YoloV5Decoder>(OutputDecoders.Create(OutputLayout.Auto, [1, 3 * 3549, 6], 1, 416, 416));
        Assert.IsType<EndToEndDecoder>(OutputDecoders.Create(OutputLayout.EndToEnd, [1, 300, 6], 1, 416, 416));
        Assert.IsType<YoloV5Decoder>(OutputDecoders.Create(OutputLayout.YoloV5, [1, 300, 6], 1, 416, 416));

        var ex = Assert.Throws<ModelMismatchException>(() => OutputDecoders.Create(OutputLayout.Auto, [1, 300, 6], 1, 416, 416, "dets"));

        Assert.Contains("'dets'", ex.Message);
        Assert.Contains("[1,300,6]", ex.Message);
        Assert.Contains("fits both", ex.Message);
        Assert.Contains("set output.layout in the manifest (yolov5 or end2end)", ex.Message);
    }

    [Fact]
    public void A_shape_that_fits_no_layout_is_refused_saying_what_was_expected_and_found()
    {
        // An 80-class YOLOv8 output declared with 3 classes.
        var ex = Assert.Throws<ModelMismatchException>(() => OutputDecoders.Create(OutputLayout.Auto, [1, 84, 8400], 3, 416, 416, "output0"));

        Assert.StartsWith("output 'output0' has shape [1,84,8400]; with 3 classes and a 416x416 input expected one of: ", ex.Message);
        Assert.Contains("[1, 7, N]", ex.Message);
        Assert.Contains("[1, N, 8]", ex.Message);
        Assert.Contains("[1, 3549, 8]", ex.Message);
        Assert.Contains("[1, 8, H, W]", ex.Message);
        Assert.Contains("[1, K, 6]", ex.Message);
        Assert.Contains("Set output.layout in the manifest or check the model's classes list", ex.Message);
    }

    [Theory]
    [InlineData(new long[] { 84, 8400 })]          // no batch dimension
    [InlineData(new long[] { 2, 84, 8400 })]       // batch not given as 1
    [InlineData(new long[] { 1, 84, -1 })]         // symbolic dimension left in
    [InlineData(new long[] { 1, 84, 20, 20, 1 })]
    [InlineData(new long[] { 1, 80, 22, 22 })]     // FastestDet rank, wrong channel count
    public void Odd_shapes_are_refused_with_the_shape_found(long[] shape)
    {
        var ex = Assert.Throws<ModelMismatchException>(() => OutputDecoders.Create(OutputLayout.Auto, shape, 80, 640, 640));
        Assert.Contains(OutputDecoders.Format(shape), ex.Message);
        Assert.Contains("expected one of", ex.Message);
    }

    [Fact]
    public void A_shape_that_fits_another_layout_than_declared_is_refused()
    {
        var ex = Assert.Throws<ModelMismatchException>(() => OutputDecoders.Create(OutputLayout.YoloV5, [1, 84, 8400], 80, 640, 640));
        Assert.Contains("output.layout yolov5", ex.Message);
        Assert.Contains("[1, N, 85]", ex.Message);
        Assert.DoesNotContain("[1, 84, N]", ex.Message);
    }

    [Theory]
    [InlineData(OutputLayout.Yolox, new long[] { 1, 3549, 85 }, "output.layout yolox with 80 classes and a 640x640 input expects [1, 8400, 85]")]
    [InlineData(OutputLayout.FastestDet, new long[] { 1, 84, 8400 }, "output.layout fastestdet with 80 classes and a 640x640 input expects [1, 85, H, W]")]
    [InlineData(OutputLayout.EndToEnd, new long[] { 1, 84, 8400 }, "output.layout end2end with 80 classes and a 640x640 input expects [1, K, 6]")]
    [InlineData(OutputLayout.YoloV8, new long[] { 1, 300, 6 }, "output.layout yolov8 with 80 classes and a 640x640 input expects [1, 84, N]")]
    public void A_forced_layout_that_does_not_fit_names_that_layout(OutputLayout layout, long[] shape, string expected)
    {
        var ex = Assert.Throws<ModelMismatchException>(() => OutputDecoders.Create(layout, shape, 80, 640, 640, "out"));
        Assert.StartsWith($"output 'out' has shape {OutputDecoders.Format(shape)}; {expected}", ex.Message);
    }

    [Fact]
    public void A_shape_that_fits_both_layouts_asks_for_an_explicit_layout()
    {
        var ex = Assert.Throws<ModelMismatchException>(() => OutputDecoders.Create(OutputLayout.Auto, [1, 7, 8], 3, 640, 640));
        Assert.Contains("output.layout", ex.Message);
        Assert.Contains("yolov8 or yolov5", ex.Message);
        // With 2 classes [1, 6, 6] is YOLOv8 with 6 anchors or 6 end-to-end rows.
        ex = Assert.Throws<ModelMismatchException>(() => OutputDecoders.Create(OutputLayout.Auto, [1, 6, 6], 2, 640, 640));
        Assert.Contains("yolov8 or end2end", ex.Message);
    }

    // ---- YOLOX

    /// <summary>A YOLOX output for a 64x48 input: strides 8/16/32 give 8x6, 4x3 and 2x1 cells = 62 rows.</summary>
    private static float[] Yolox(params (int Row, float X, float Y, float W, float H, float Obj, float[] Scores)[] rows)
    {
        var t = new float[62 * (5 + Classes)];
        foreach (var (r, x, y, w, h, obj, scores) in rows)
        {
            float[] row = [x, y, w, h, obj, .. scores];
            row.CopyTo(t, r * (5 + Classes));
        }
        return t;
    }

    [Fact]
    public void Yolox_rows_run_over_the_stride_8_grid_then_16_then_32()
    {
        var d = new YoloxDecoder(Classes, 64, 48);
        Assert.Equal(8 * 6 + 4 * 3 + 2 * 1, d.RowCount);
        Assert.Equal(62 * 8, d.OutputLength);
        Assert.Equal(3549, new YoloxDecoder(80, 416, 416).RowCount);
        Assert.Equal(8400, new YoloxDecoder(80, 640, 640).RowCount);

        var output = Yolox(
            // stride 8, row 13 = (gx 5, gy 1): centre ((0.5+5)·8, (0.5+1)·8) = (44, 12); w = e^0·8 = 8
            (13, 0.5f, 0.5f, 0f, 0f, 0.9f, [0.9f, 0.1f, 0.1f]),
            // stride 16, row 48 + 1·4 + 2 = 54 = (gx 2, gy 1): centre (40, 20); w = 2·16 = 32, h = 3·16 = 48
            (54, 0.5f, 0.25f, MathF.Log(2), MathF.Log(3), 0.8f, [0.1f, 0.2f, 0.9f]),
            // stride 32, row 60 + 1 = 61 = (gx 1, gy 0): centre (48, 16); w = h = 32
            (61, 0.5f, 0.5f, 0f, 0f, 0.5f, [0.1f, 1f, 0.1f]),
            // objectness too low: 0.3 x 0.8 = 0.24
            (20, 0.5f, 0.5f, 0f, 0f, 0.3f, [0.8f, 0f, 0f]));
        var candidates = new List<Candidate>();

        d.Decode(output, 0.25f, candidates);

        Assert.Equal(3, candidates.Count);
        Assert.Equal(0, candidates[0].ClassId);
        Assert.Equal(0.81f, candidates[0].Score, 5);
        AssertBox(new Box(40, 8, 48, 16), candidates[0].Box);
        Assert.Equal(2, candidates[1].ClassId);
        Assert.Equal(0.72f, candidates[1].Score, 5);
        AssertBox(new Box(24, -4, 56, 44), candidates[1].Box);
        Assert.Equal(1, candidates[2].ClassId);
        AssertBox(new Box(32, 0, 64, 32), candidates[2].Box);
    }

    // ---- FastestDet

    private const int Gw = 4, Gh = 3;

    /// <summary>A [1, 5+C, 3, 4] FastestDet output; box values raw (before tanh / sigmoid), as the export gives them.</summary>
    private static float[] Fastest(params (int Gx, int Gy, float Obj, float Tx, float Ty, float Tw, float Th, float[] Scores)[] cells)
    {
        var n = Gw * Gh;
        var t = new float[(5 + Classes) * n];
        foreach (var (gx, gy, obj, tx, ty, tw, th, scores) in cells)
        {
            var i = gy * Gw + gx;
            float[] ch = [obj, tx, ty, tw, th, .. scores];
            for (var c = 0; c < ch.Length; c++) t[c * n + i] = ch[c];
        }
        return t;
    }

    private static float Logit(float p) => MathF.Log(p / (1 - p));

    [Fact]
    public void FastestDet_decodes_tanh_offsets_in_the_cell_and_sigmoid_sizes_of_the_image()
    {
        var d = new FastestDetDecoder(Classes, Gw, Gh, 320, 240);
        Assert.Equal(8 * 12, d.OutputLength);
        var output = Fastest(
            // cell (2, 1): cx = (0.5 + 2)/4·320 = 200, cy = (-0.25 + 1)/3·240 = 60; w = 0.25·320 = 80, h = 0.5·240 = 120
            (2, 1, 0.81f, MathF.Atanh(0.5f), MathF.Atanh(-0.25f), Logit(0.25f), 0f, [0.1f, 0.64f, 0.2f]),
            // weak objectness but a sure class: 0.2^0.6 · 1^0.4 = 0.381 passes 0.25 although obj itself does not
            (0, 0, 0.2f, 0f, 0f, 0f, 0f, [1f, 0f, 0f]),
            // 0.1^0.6 · 0.5^0.4 = 0.19: dropped
            (3, 2, 0.1f, 0f, 0f, 0f, 0f, [0f, 0f, 0.5f]));
        var candidates = new List<Candidate>();

        d.Decode(output, 0.25f, candidates);

        Assert.Equal(2, candidates.Count);
        var weak = candidates[0];
        Assert.Equal(0, weak.ClassId);
        Assert.Equal(MathF.Pow(0.2f, 0.6f), weak.Score, 5);
        // tanh(0) = 0: centre on the cell corner; sigmoid(0) = 0.5 of the image
        AssertBox(new Box(-80, -60, 80, 60), weak.Box);
        var c = candidates[1];
        Assert.Equal(1, c.ClassId);
        Assert.Equal(MathF.Pow(0.81f, 0.6f) * MathF.Pow(0.64f, 0.4f), c.Score, 5);
        AssertBox(new Box(160, 0, 240, 120), c.Box);
    }

    // ---- end-to-end

    [Fact]
    public void EndToEnd_passes_boxes_through_skipping_low_scores_and_unknown_classes()
    {
        float[] output =
        [
            10, 20, 110, 220, 0.9f, 2,
            30, 40, 50, 60, 0.25f, 0,          // at the threshold: dropped
            0, 0, 0, 0, 0, 0,                  // unused row
            5, 5, 15, 15, 0.8f, 3,             // class 3 of 3: unknown
            5, 5, 15, 15, 0.8f, -1,
            5, 5, 15, 15, 0.8f, float.NaN,
            1, 2, 3, 4, 0.3f, 1,
        ];
        var d = new EndToEndDecoder(Classes, 7);
        var candidates = new List<Candidate>();

        d.Decode(output, 0.25f, candidates);

        Assert.True(d.IncludesNms);
        Assert.Equal(OutputLayout.EndToEnd, d.Layout);
        Assert.Equal(42, d.OutputLength);
        Assert.Equal(
            [new Candidate(2, 0.9f, new Box(10, 20, 110, 220)), new Candidate(1, 0.3f, new Box(1, 2, 3, 4))],
            candidates);
    }

    [Fact]
    public void Only_end_to_end_includes_nms()
    {
        Assert.False(new YoloV8Decoder(Classes, 4).IncludesNms);
        Assert.False(new YoloV5Decoder(Classes, 4).IncludesNms);
        Assert.False(new YoloxDecoder(Classes, 64, 64).IncludesNms);
        Assert.False(new FastestDetDecoder(Classes, 4, 4, 64, 64).IncludesNms);
        Assert.True(new EndToEndDecoder(Classes, 4).IncludesNms);
    }

    [Fact]
    public void Nms_top_k_keeps_overlaps_and_only_orders_and_cuts()
    {
        List<Candidate> candidates =
        [
            new(0, 0.5f, new Box(0, 0, 10, 10)),
            new(0, 0.9f, new Box(0, 0, 10, 10)),
            new(0, 0.7f, new Box(1, 0, 11, 10)),
        ];
        var kept = new List<Candidate>();

        Nms.TopK(candidates, 2, kept);

        Assert.Equal([0.9f, 0.7f], kept.Select(k => k.Score));
    }

    // ---- every decoder

    public static TheoryData<string> DecoderNames => ["yolov8", "yolov5", "yolox", "fastestdet", "end2end"];

    private static (IOutputDecoder Decoder, float[] Output) Sample(string name)
    {
        var rnd = new Random(7);
        IOutputDecoder d = name switch
        {
            "yolov8" => new YoloV8Decoder(80, 8400),
            "yolov5" => new YoloV5Decoder(80, 25200),
            "yolox" => new YoloxDecoder(80, 416, 416),
            "fastestdet" => new FastestDetDecoder(80, 22, 22, 352, 352),
            _ => new EndToEndDecoder(80, 300),
        };
        var output = new float[d.OutputLength];
        for (var i = 0; i < output.Length; i++) output[i] = (float)rnd.NextDouble();
        if (d is EndToEndDecoder)
            for (var k = 0; k < 300; k++) output[k * 6 + 5] = k % 80;
        return (d, output);
    }

    [Theory]
    [MemberData(nameof(DecoderNames))]
    public void Decoding_allocates_nothing(string name)
    {
        var (d, output) = Sample(name);
        var candidates = new List<Candidate>(output.Length);
        d.Decode(output, 0.5f, candidates); // warm-up: JIT, statics
        Assert.NotEmpty(candidates);

        var allocated = SteadyState.AllocatedBytes(_ =>
        {
            candidates.Clear();
            d.Decode(output, 0.5f, candidates);
        });

        Assert.NotEmpty(candidates);
        Assert.Equal(0, allocated);
    }

    [Theory]
    [MemberData(nameof(DecoderNames))]
    public void Every_decoder_rejects_a_short_output_naming_the_shape(string name)
    {
        var (d, output) = Sample(name);
        var ex = Assert.Throws<ArgumentException>(() => d.Decode(output.AsSpan(1), 0.25f, []));
        Assert.Contains($"needs {d.OutputLength}", ex.Message);
    }

    private static void AssertBox(Box expected, Box actual)
    {
        Assert.Equal(expected.X1, actual.X1, 3);
        Assert.Equal(expected.Y1, actual.Y1, 3);
        Assert.Equal(expected.X2, actual.X2, 3);
        Assert.Equal(expected.Y2, actual.Y2, 3);
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
