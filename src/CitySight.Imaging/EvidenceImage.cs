using CitySight.Domain;
using OpenCvSharp;
using SkiaSharp;

namespace CitySight.Imaging;

/// <summary>Evidence pictures for cases, and still images as frames.</summary>
public static class EvidenceImage
{
    /// <summary>Colour of marks (BGR): red, which stands out on street scenes.</summary>
    public static readonly (byte B, byte G, byte R) MarkColour = (0, 0, 255);

    /// <summary>
    /// Draws each box with its label on a copy of the frame and encodes it as JPEG. The frame itself is not changed.
    /// Labels are drawn with OpenCV's Hershey font, which has ASCII only: other characters become '?'.
    /// </summary>
    public static unsafe byte[] EncodeAnnotatedJpeg(
        ReadOnlySpan<byte> bgr, int width, int height, IReadOnlyList<(Box Box, string Label)> marks, int quality = 85)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(marks);
        ArgumentOutOfRangeException.ThrowIfLessThan(quality, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quality, 100);
        if (bgr.Length < width * height * 3)
            throw new ArgumentException($"BGR buffer has {bgr.Length} bytes, a {width}x{height} frame needs {width * height * 3}", nameof(bgr));

        using var image = new Mat(height, width, MatType.CV_8UC3);
        bgr[..(width * height * 3)].CopyTo(new Span<byte>((void*)image.Data, width * height * 3));

        var colour = new Scalar(MarkColour.B, MarkColour.G, MarkColour.R);
        // Lines and text readable both on 640x360 and 4K frames.
        var thickness = Math.Max(2, (int)Math.Round(Math.Max(width, height) / 400.0));
        var fontScale = Math.Max(0.5, Math.Max(width, height) / 1400.0);
        var fontThickness = Math.Max(1, thickness / 2);

        foreach (var (box, label) in marks)
        {
            var x1 = (int)Math.Clamp(MathF.Round(box.X1), 0, width - 1);
            var y1 = (int)Math.Clamp(MathF.Round(box.Y1), 0, height - 1);
            var x2 = (int)Math.Clamp(MathF.Round(box.X2), 0, width - 1);
            var y2 = (int)Math.Clamp(MathF.Round(box.Y2), 0, height - 1);
            Cv2.Rectangle(image, new Point(x1, y1), new Point(x2, y2), colour, thickness, LineTypes.Link8);

            var text = ToAscii(label);
            if (text.Length == 0) continue;
            var size = Cv2.GetTextSize(text, HersheyFonts.HersheySimplex, fontScale, fontThickness, out var baseline);
            // Above the box when there is room, else just inside its top edge.
            var top = y1 - size.Height - baseline - thickness >= 0 ? y1 - size.Height - baseline - thickness : y1;
            var bgRect = new Rect(x1, top, Math.Min(size.Width + 2 * thickness, width - x1), size.Height + baseline + thickness);
            Cv2.Rectangle(image, bgRect, colour, -1);
            Cv2.PutText(image, text, new Point(x1 + thickness, top + size.Height + thickness / 2),
                HersheyFonts.HersheySimplex, fontScale, Scalar.White, fontThickness, LineTypes.AntiAlias);
        }

        Cv2.ImEncode(".jpg", image, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, quality));
        return jpeg;
    }

    /// <summary>
    /// The case picture: the whole frame with the sketch's zones, boxes and labels, and its caption in a dark band
    /// below the frame (so it never hides the scene: the JPEG is taller than the frame by the band, none without
    /// caption lines). Labels and caption are drawn with <see cref="EvidenceCaption"/>'s typeface, Chinese included.
    /// The frame itself is not changed.
    /// </summary>
    public static byte[] EncodeCaseJpeg(ReadOnlySpan<byte> bgr, int width, int height, EvidenceSketch sketch, int quality = 85)
    {
        CheckFrame(bgr, width, height, nameof(bgr));
        ArgumentNullException.ThrowIfNull(sketch);
        CheckQuality(quality);

        using var painter = new SketchPainter(Math.Max(width, height));
        var captionSize = painter.FitCaptionSize(sketch.Caption, width);
        var band = SketchPainter.BandHeight(sketch.Caption.Count, captionSize);
        using var canvas = new EvidenceCanvas(width, height + band);
        canvas.PutFrame(bgr, width, height, new Rect(0, 0, width, height));

        var frame = new SKRect(0, 0, width, height);
        painter.DrawZones(canvas.Canvas, frame, sketch.Zones);
        painter.DrawMarks(canvas.Canvas, frame, 1, 1, sketch.Marks);
        if (band > 0) painter.DrawCaption(canvas.Canvas, new SKRect(0, height, width, height + band), sketch.Caption, captionSize);
        return canvas.EncodeJpeg(quality);
    }

    /// <summary>
    /// Before and after side by side, for "it was not there, now it is": the BEFORE view (a reference of the scene,
    /// often smaller) scaled to the AFTER frame's height on the left, the AFTER frame as it is on the right, each
    /// tagged in its top-left corner, the sketch's zones and boxes on both (boxes are in AFTER-frame pixels, scaled to
    /// the before view), and the caption band below the pair.
    /// </summary>
    public static byte[] EncodePairJpeg(
        ReadOnlySpan<byte> beforeBgr, int beforeWidth, int beforeHeight,
        ReadOnlySpan<byte> afterBgr, int afterWidth, int afterHeight,
        EvidenceSketch sketch, string beforeLabel, string afterLabel, int quality = 85)
    {
        CheckFrame(beforeBgr, beforeWidth, beforeHeight, nameof(beforeBgr));
        CheckFrame(afterBgr, afterWidth, afterHeight, nameof(afterBgr));
        ArgumentNullException.ThrowIfNull(sketch);
        CheckQuality(quality);

        using var painter = new SketchPainter(Math.Max(afterWidth, afterHeight));
        var height = afterHeight;
        var beforeScaledWidth = Math.Max(1, (int)Math.Round((double)beforeWidth * height / beforeHeight));
        var gap = (int)painter.Stroke;
        var width = beforeScaledWidth + gap + afterWidth;
        var captionSize = painter.FitCaptionSize(sketch.Caption, width);
        var band = SketchPainter.BandHeight(sketch.Caption.Count, captionSize);

        using var canvas = new EvidenceCanvas(width, height + band);
        canvas.PutFrame(beforeBgr, beforeWidth, beforeHeight, new Rect(0, 0, beforeScaledWidth, height));
        canvas.PutFrame(afterBgr, afterWidth, afterHeight, new Rect(beforeScaledWidth + gap, 0, afterWidth, height));

        var before = new SKRect(0, 0, beforeScaledWidth, height);
        var after = new SKRect(beforeScaledWidth + gap, 0, width, height);
        using (var black = new SKPaint { Color = SKColors.Black })
            canvas.Canvas.DrawRect(new SKRect(beforeScaledWidth, 0, beforeScaledWidth + gap, height), black); // between the views
        painter.DrawZones(canvas.Canvas, before, sketch.Zones);
        painter.DrawZones(canvas.Canvas, after, sketch.Zones);
        painter.DrawMarks(canvas.Canvas, before, (float)beforeScaledWidth / afterWidth, 1, sketch.Marks);
        painter.DrawMarks(canvas.Canvas, after, 1, 1, sketch.Marks);
        painter.DrawTag(canvas.Canvas, before, beforeLabel ?? "");
        painter.DrawTag(canvas.Canvas, after, afterLabel ?? "");
        if (band > 0) painter.DrawCaption(canvas.Canvas, new SKRect(0, height, width, height + band), sketch.Caption, captionSize);
        return canvas.EncodeJpeg(quality);
    }

    /// <summary>
    /// Scales a BGR frame into the caller's buffer (OpenCV INTER_AREA: each output pixel the mean of the pixels it
    /// covers), allocating nothing: called per frame to keep a small colour reference of each scene.
    /// </summary>
    public static unsafe void Downscale(ReadOnlySpan<byte> bgr, int width, int height, Span<byte> dst, int dstWidth, int dstHeight)
    {
        CheckFrame(bgr, width, height, nameof(bgr));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dstWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dstHeight);
        if (dst.Length < dstWidth * dstHeight * 3)
            throw new ArgumentException($"destination has {dst.Length} bytes, {dstWidth}x{dstHeight} BGR needs {dstWidth * dstHeight * 3}", nameof(dst));

        fixed (byte* s = bgr)
        fixed (byte* d = dst)
            AreaResize.Bgr(s, width, height, d, dstWidth, dstHeight);
    }

    /// <summary>
    /// A JPEG of the object itself: its box widened by <paramref name="margin"/> of its size on each side (an officer
    /// needs the kerb or the shop front around it), at least <paramref name="minSide"/> pixels where the frame allows.
    /// </summary>
    public static unsafe byte[] EncodeCropJpeg(ReadOnlySpan<byte> bgr, int width, int height, Box box,
        float margin = 0.25f, int minSide = 64, int quality = 90)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (bgr.Length < width * height * 3)
            throw new ArgumentException($"BGR buffer has {bgr.Length} bytes, a {width}x{height} frame needs {width * height * 3}", nameof(bgr));

        var cx = (box.X1 + box.X2) / 2;
        var cy = (box.Y1 + box.Y2) / 2;
        var w = Math.Max(box.Width * (1 + 2 * margin), minSide);
        var h = Math.Max(box.Height * (1 + 2 * margin), minSide);
        var x1 = (int)Math.Clamp(MathF.Floor(cx - w / 2), 0, width - 1);
        var y1 = (int)Math.Clamp(MathF.Floor(cy - h / 2), 0, height - 1);
        var x2 = (int)Math.Clamp(MathF.Ceiling(cx + w / 2), x1 + 1, width);
        var y2 = (int)Math.Clamp(MathF.Ceiling(cy + h / 2), y1 + 1, height);

        fixed (byte* p = bgr)
        {
            using var frame = Mat.FromPixelData(height, width, MatType.CV_8UC3, (IntPtr)p);
            using var crop = new Mat(frame, new Rect(x1, y1, x2 - x1, y2 - y1));
            Cv2.ImEncode(".jpg", crop, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, quality));
            return jpeg;
        }
    }

    /// <summary>
    /// Decodes a JPEG/PNG file into a pooled BGR24 <see cref="Frame"/> (the caller disposes it).
    /// <paramref name="captureTime"/> defaults to now: a still has no stream clock.
    /// </summary>
    public static unsafe Frame LoadFrame(string imagePath, string cameraId, long sequence = 0, DateTimeOffset? captureTime = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagePath);
        if (!File.Exists(imagePath))
            throw new FileNotFoundException($"image file not found: {imagePath}", imagePath);

        using var image = Cv2.ImRead(imagePath, ImreadModes.Color);
        if (image.Empty())
            throw new InvalidDataException($"could not decode image {imagePath}: not a JPEG/PNG OpenCV can read, or corrupt");

        int width = image.Width, height = image.Height;
        var frame = Frame.Rent(cameraId, sequence, captureTime ?? DateTimeOffset.UtcNow, width, height);
        try
        {
            var rowBytes = width * 3;
            var dst = frame.Bgr;
            var step = image.Step();
            for (var y = 0; y < height; y++)
                new ReadOnlySpan<byte>((byte*)image.Data + (long)y * step, rowBytes).CopyTo(dst.Slice(y * rowBytes, rowBytes));
            return frame;
        }
        catch
        {
            frame.Dispose();
            throw;
        }
    }

    private static void CheckFrame(ReadOnlySpan<byte> bgr, int width, int height, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (bgr.Length < width * height * 3)
            throw new ArgumentException($"BGR buffer has {bgr.Length} bytes, a {width}x{height} frame needs {width * height * 3}", name);
    }

    private static void CheckQuality(int quality)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(quality, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quality, 100);
    }

    private static string ToAscii(string s)
    {
        if (string.IsNullOrEmpty(s)) return "";
        return string.Create(s.Length, s, static (dst, src) =>
        {
            for (var i = 0; i < src.Length; i++)
                dst[i] = src[i] is >= ' ' and <= '~' ? src[i] : '?';
        });
    }
}
