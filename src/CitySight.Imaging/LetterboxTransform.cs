using CitySight.Domain;

namespace CitySight.Imaging;

/// <summary>
/// Where a source image landed inside the model input: resized to ResizedWidth x ResizedHeight and placed at
/// (PadLeft, PadTop). Maps points and boxes both ways.
/// </summary>
public readonly record struct LetterboxTransform(
    int SourceWidth,
    int SourceHeight,
    int ModelWidth,
    int ModelHeight,
    int ResizedWidth,
    int ResizedHeight,
    int PadLeft,
    int PadTop)
{
    // Per axis, from the sizes actually resized to: rounding makes them differ slightly even when aspect is kept.
    public float ScaleX => (float)ResizedWidth / SourceWidth;
    public float ScaleY => (float)ResizedHeight / SourceHeight;

    public static LetterboxTransform Create(int sourceWidth, int sourceHeight, int modelWidth, int modelHeight, ResizeMode mode)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sourceWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sourceHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(modelWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(modelHeight);

        if (mode == ResizeMode.Stretch)
            return new(sourceWidth, sourceHeight, modelWidth, modelHeight, modelWidth, modelHeight, 0, 0);

        var r = Math.Min((double)modelWidth / sourceWidth, (double)modelHeight / sourceHeight);
        int w, h;
        if (mode == ResizeMode.LetterboxTopLeft)
        {
            // YOLOX truncates
            w = (int)(sourceWidth * r);
            h = (int)(sourceHeight * r);
        }
        else
        {
            w = (int)Math.Round(sourceWidth * r);
            h = (int)Math.Round(sourceHeight * r);
        }
        w = Math.Clamp(w, 1, modelWidth);
        h = Math.Clamp(h, 1, modelHeight);

        if (mode == ResizeMode.LetterboxTopLeft)
            return new(sourceWidth, sourceHeight, modelWidth, modelHeight, w, h, 0, 0);

        // Ultralytics puts the odd pixel of padding on the right/bottom: round(d/2 - 0.1).
        var left = (int)Math.Round((modelWidth - w) / 2.0 - 0.1);
        var top = (int)Math.Round((modelHeight - h) / 2.0 - 0.1);
        return new(sourceWidth, sourceHeight, modelWidth, modelHeight, w, h, Math.Max(0, left), Math.Max(0, top));
    }

    public (float X, float Y) ToModel(float x, float y) => (x * ScaleX + PadLeft, y * ScaleY + PadTop);

    /// <summary>Unclamped: a point in the padding maps outside the source image.</summary>
    public (float X, float Y) ToSource(float x, float y) => ((x - PadLeft) / ScaleX, (y - PadTop) / ScaleY);

    public Box ToModel(Box b)
    {
        var (x1, y1) = ToModel(b.X1, b.Y1);
        var (x2, y2) = ToModel(b.X2, b.Y2);
        return new(x1, y1, x2, y2);
    }

    /// <summary>A box in model-input pixels to source pixels, clamped to the source image.</summary>
    public Box ToSource(Box inModelPixels)
    {
        var (x1, y1) = ToSource(inModelPixels.X1, inModelPixels.Y1);
        var (x2, y2) = ToSource(inModelPixels.X2, inModelPixels.Y2);
        return new(
            Math.Clamp(x1, 0, SourceWidth),
            Math.Clamp(y1, 0, SourceHeight),
            Math.Clamp(x2, 0, SourceWidth),
            Math.Clamp(y2, 0, SourceHeight));
    }
}
