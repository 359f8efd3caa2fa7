namespace CitySight.Inference;

/// <summary>Picks and checks a decoder for an output shape.</summary>
public static class OutputDecoders
{
    /// <summary>
    /// A decoder for <paramref name="shape"/> (batch dimension given as 1) given the manifest's class count and
    /// the model's input size. With <see cref="OutputLayout.Auto"/> the layout is told from the shape.
    /// </summary>
    /// <exception cref="ModelMismatchException">The shape fits no layout, not the requested one, or several.</exception>
    public static IOutputDecoder Create(
        OutputLayout layout, IReadOnlyList<long> shape, int classCount, int inputWidth, int inputHeight, string outputName = "output")
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputHeight);
        var c = classCount;
        var grid = YoloxDecoder.CellCount(inputWidth, inputHeight, YoloxDecoder.DefaultStrides);

        var positive = true;
        foreach (var d in shape) positive &= d > 0;
        var rank3 = positive && shape.Count == 3 && shape[0] == 1;
        var rank4 = positive && shape.Count == 4 && shape[0] == 1;
        var v8 = rank3 && shape[1] == 4 + c;
        var rows = rank3 && shape[2] == 5 + c; // YOLOv5 or YOLOX
        var yolox = rows && shape[1] == grid;
        var e2e = rank3 && shape[2] == 6;
        var fastest = rank4 && shape[1] == 5 + c;

        switch (layout)
        {
            case OutputLayout.YoloV8 when v8:
                return new YoloV8Decoder(c, checked((int)shape[2]));
            case OutputLayout.YoloV5 when rows:
                return new YoloV5Decoder(c, checked((int)shape[1]));
            case OutputLayout.Yolox when yolox:
                return new YoloxDecoder(c, inputWidth, inputHeight);
            case OutputLayout.FastestDet when fastest:
                return new FastestDetDecoder(c, checked((int)shape[3]), checked((int)shape[2]), inputWidth, inputHeight);
            case OutputLayout.EndToEnd when e2e:
                return new EndToEndDecoder(c, checked((int)shape[1]));
            case OutputLayout.Auto:
                if (fastest)
                    return new FastestDetDecoder(c, checked((int)shape[3]), checked((int)shape[2]), inputWidth, inputHeight);
                if (v8 && (rows || e2e))
                    throw Ambiguous(outputName, shape, c, OutputLayout.YoloV8, rows ? (yolox ? OutputLayout.Yolox : OutputLayout.YoloV5) : OutputLayout.EndToEnd, inputWidth, inputHeight, grid);
                if (v8)
                    return new YoloV8Decoder(c, checked((int)shape[2]));
                // With one class a [1, N, 6] row is 5+C wide too: only a YOLOX grid or YOLOv5's 3 anchors per cell tell.
                if (rows && e2e && !yolox && shape[1] != 3L * grid)
                    throw Ambiguous(outputName, shape, c, OutputLayout.YoloV5, OutputLayout.EndToEnd, inputWidth, inputHeight, grid);
                if (yolox)
                    return new YoloxDecoder(c, inputWidth, inputHeight);
                if (rows)
                    return new YoloV5Decoder(c, checked((int)shape[1]));
                if (e2e)
                    return new EndToEndDecoder(c, checked((int)shape[1]));
                break;
        }

        var size = $"{inputWidth}x{inputHeight}";
        var classes = c == 1 ? "1 class" : $"{c} classes";
        if (layout == OutputLayout.Auto)
        {
            OutputLayout[] all = [OutputLayout.YoloV8, OutputLayout.YoloV5, OutputLayout.Yolox, OutputLayout.FastestDet, OutputLayout.EndToEnd];
            var expected = string.Join("; ", all.Select(l => Describe(l, c, inputWidth, inputHeight, grid)));
            throw new ModelMismatchException(
                $"output '{outputName}' has shape {Format(shape)}; with {classes} and a {size} input expected one of: {expected}. " +
                "Set output.layout in the manifest or check the model's classes list.");
        }
        throw new ModelMismatchException(
            $"output '{outputName}' has shape {Format(shape)}; output.layout {ManifestName(layout)} with {classes} and a {size} input " +
            $"expects {Describe(layout, c, inputWidth, inputHeight, grid)}. Check output.layout and the model's classes list in the manifest.");
    }

    public static string Format(IReadOnlyList<long> shape) => "[" + string.Join(",", shape) + "]";

    /// <summary>The layout's name in the manifest's <c>output.layout</c>.</summary>
    public static string ManifestName(OutputLayout layout) => layout switch
    {
        OutputLayout.Auto => "auto",
        OutputLayout.YoloV8 => "yolov8",
        OutputLayout.YoloV5 => "yolov5",
        OutputLayout.Yolox => "yolox",
        OutputLayout.FastestDet => "fastestdet",
        OutputLayout.EndToEnd => "end2end",
        _ => layout.ToString(),
    };

    private static string Describe(OutputLayout layout, int c, int w, int h, int grid) => layout switch
    {
        OutputLayout.YoloV8 => $"[1, {4 + c}, N] (yolov8: YOLOv8/YOLO11, 4 box values + {c} class scores)",
        OutputLayout.YoloV5 => $"[1, N, {5 + c}] (yolov5: 4 box values + objectness + {c} class scores)",
        OutputLayout.Yolox => $"[1, {grid}, {5 + c}] (yolox: raw YOLOX head, one row per cell of strides 8/16/32 on {w}x{h})",
        OutputLayout.FastestDet => $"[1, {5 + c}, H, W] (fastestdet: objectness + 4 box values + {c} class scores per grid cell)",
        OutputLayout.EndToEnd => "[1, K, 6] (end2end: NMS inside the model, rows x1, y1, x2, y2, score, class)",
        _ => layout.ToString(),
    };

    private static ModelMismatchException Ambiguous(
        string outputName, IReadOnlyList<long> shape, int c, OutputLayout a, OutputLayout b, int w, int h, int grid) =>
        new($"output '{outputName}' has shape {Format(shape)}, which with {(c == 1 ? "1 class" : $"{c} classes")} fits both " +
            $"{Describe(a, c, w, h, grid)} and {Describe(b, c, w, h, grid)}; " +
            $"set output.layout in the manifest ({ManifestName(a)} or {ManifestName(b)})");
}
