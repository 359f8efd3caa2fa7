using CitySight.Domain;
using SkiaSharp;

namespace CitySight.Imaging;

/// <summary>
/// Draws an <see cref="EvidenceSketch"/> with Skia: zones, marks, corner tags and the caption band. Sizes follow the
/// frame's longer side, so a 640x360 and a 4K picture both read the same when shown at the same size on screen.
/// </summary>
internal sealed class SketchPainter : IDisposable
{
    /// <summary>Marks: red, which stands out on street scenes (the colour the ASCII evidence uses).</summary>
    private static readonly SKColor MarkColour = new(255, 0, 0);

    /// <summary>Zones: amber, unlike the red marks and rare in streets; a light fill still shows the ground through.</summary>
    private static readonly SKColor ZoneColour = new(255, 191, 0);
    private static readonly SKColor ZoneFill = ZoneColour.WithAlpha(48);

    private static readonly SKColor BandColour = new(24, 24, 24);
    private static readonly SKColor SecondaryText = new(215, 215, 215);
    private static readonly SKColor TagBackground = new(0, 0, 0, 170);

    private const float MinCaptionSize = 11;
    private const float LineSpacing = 1.4f;

    private readonly SKPaint _fill = new() { IsAntialias = true, Style = SKPaintStyle.Fill };
    private readonly SKPaint _stroke = new() { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeJoin = SKStrokeJoin.Round };
    private readonly SKFont _font = new(EvidenceCaption.Typeface) { Subpixel = true, Edging = SKFontEdging.Antialias };

    /// <summary>Sizes for a frame whose longer side is <paramref name="frameSide"/> pixels.</summary>
    public SketchPainter(int frameSide)
    {
        // Lines at least 3 px: JPEG halves the colour resolution, and a 2 px red line comes out a dull pink.
        Stroke = MathF.Max(3, MathF.Round(frameSide / 320f));
        LabelSize = MathF.Max(14, frameSide / 60f);
        CaptionSize = MathF.Max(16, frameSide / 45f);
    }

    public float Stroke { get; }
    public float LabelSize { get; }
    public float CaptionSize { get; }

    /// <summary>Height of the band that holds <paramref name="lines"/> at <paramref name="size"/>; 0 when there are none.</summary>
    public static int BandHeight(int lines, float size) =>
        lines == 0 ? 0 : (int)MathF.Ceiling(size * (LineSpacing * lines + 0.8f));

    /// <summary>
    /// The caption size that fits every line across <paramref name="width"/>: <see cref="CaptionSize"/>, or smaller for
    /// a long line on a narrow picture (down to a floor; past that, <see cref="DrawCaption"/> shortens the line).
    /// </summary>
    public float FitCaptionSize(IReadOnlyList<string> lines, int width)
    {
        var size = CaptionSize;
        var room = width - 2 * Margin(size);
        _font.Size = size;
        var widest = 0f;
        for (var i = 0; i < lines.Count; i++) widest = MathF.Max(widest, MeasureLine(lines[i], first: i == 0));
        return widest <= room ? size : MathF.Max(MinCaptionSize, size * room / widest);
    }

    /// <summary>Every zone as an outline over <paramref name="area"/> (the picture the points are fractions of).</summary>
    public void DrawZones(SKCanvas canvas, SKRect area, IReadOnlyList<IReadOnlyList<NormalisedPoint>> zones)
    {
        foreach (var zone in zones)
        {
            if (zone.Count < 2) continue;
            using var path = new SKPath();
            path.MoveTo(area.Left + (float)zone[0].X * area.Width, area.Top + (float)zone[0].Y * area.Height);
            for (var i = 1; i < zone.Count; i++)
                path.LineTo(area.Left + (float)zone[i].X * area.Width, area.Top + (float)zone[i].Y * area.Height);
            path.Close();

            canvas.Save();
            canvas.ClipRect(area);
            _fill.Color = ZoneFill;
            canvas.DrawPath(path, _fill);
            _stroke.Color = ZoneColour;
            _stroke.StrokeWidth = Stroke;
            canvas.DrawPath(path, _stroke);
            canvas.Restore();
        }
    }

    /// <summary>
    /// Every mark as a red box with its label on a red tab above it (inside its top edge when there is no room above).
    /// Boxes are in pixels of a frame <paramref name="scaleX"/>/<paramref name="scaleY"/> times smaller than
    /// <paramref name="area"/>'s picture.
    /// </summary>
    public void DrawMarks(SKCanvas canvas, SKRect area, float scaleX, float scaleY, IReadOnlyList<(Box Box, string Label)> marks)
    {
        canvas.Save();
        canvas.ClipRect(area);
        _stroke.Color = MarkColour;
        _stroke.StrokeWidth = Stroke;
        _font.Size = LabelSize;
        _font.Embolden = false;
        foreach (var (box, label) in marks)
        {
            var rect = new SKRect(area.Left + box.X1 * scaleX, area.Top + box.Y1 * scaleY,
                area.Left + box.X2 * scaleX, area.Top + box.Y2 * scaleY);
            rect.Intersect(area);
            if (rect.IsEmpty) continue;
            canvas.DrawRect(rect, _stroke);
            if (string.IsNullOrWhiteSpace(label)) continue;

            var pad = LabelSize * 0.25f;
            var tabHeight = LabelSize * 1.3f;
            var tabWidth = MathF.Min(_font.MeasureText(label) + 2 * pad, area.Width);
            var top = rect.Top - Stroke / 2 - tabHeight >= area.Top ? rect.Top - Stroke / 2 - tabHeight : rect.Top;
            var left = MathF.Min(rect.Left - Stroke / 2, area.Right - tabWidth);
            _fill.Color = MarkColour;
            canvas.DrawRect(new SKRect(left, top, left + tabWidth, top + tabHeight), _fill);
            _fill.Color = SKColors.White;
            canvas.DrawText(label, left + pad, top + Baseline(tabHeight), SKTextAlign.Left, _font, _fill);
        }
        canvas.Restore();
    }

    /// <summary>A tag in the top-left corner of <paramref name="area"/> (e.g. "之前 before 14:01:10"), white on dark.</summary>
    public void DrawTag(SKCanvas canvas, SKRect area, string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return;
        _font.Size = LabelSize * 1.2f;
        _font.Embolden = true;
        var pad = _font.Size * 0.35f;
        var height = _font.Size * 1.4f;
        var width = MathF.Min(_font.MeasureText(text) + 2 * pad, area.Width);
        _fill.Color = TagBackground;
        canvas.DrawRect(new SKRect(area.Left, area.Top, area.Left + width, area.Top + height), _fill);
        _fill.Color = SKColors.White;
        canvas.DrawText(text, area.Left + pad, area.Top + Baseline(height), SKTextAlign.Left, _font, _fill);
        _font.Embolden = false;
    }

    /// <summary>
    /// The dark band with the caption lines, the first emphasised. A line still too long at the smallest size is
    /// shortened with an ellipsis rather than run off the picture.
    /// </summary>
    public void DrawCaption(SKCanvas canvas, SKRect band, IReadOnlyList<string> lines, float size)
    {
        _fill.Color = BandColour;
        canvas.DrawRect(band, _fill);
        _font.Size = size;
        var margin = Margin(size);
        var room = band.Width - 2 * margin;
        var lineHeight = size * LineSpacing;
        var top = band.Top + size * 0.4f;
        for (var i = 0; i < lines.Count; i++)
        {
            _font.Embolden = i == 0;
            _fill.Color = i == 0 ? SKColors.White : SecondaryText;
            var text = Shorten(lines[i] ?? "", room);
            canvas.DrawText(text, band.Left + margin, top + i * lineHeight + Baseline(lineHeight), SKTextAlign.Left, _font, _fill);
        }
        _font.Embolden = false;
    }

    private static float Margin(float size) => size * 0.6f;

    /// <summary>The baseline inside a row of <paramref name="rowHeight"/>, centring the font's ascent+descent in it.</summary>
    private float Baseline(float rowHeight)
    {
        var m = _font.Metrics;
        return (rowHeight - (m.Descent - m.Ascent)) / 2 - m.Ascent;
    }

    private float MeasureLine(string line, bool first)
    {
        _font.Embolden = first;
        var width = _font.MeasureText(line ?? "");
        _font.Embolden = false;
        return width;
    }

    private string Shorten(string text, float room)
    {
        if (_font.MeasureText(text) <= room) return text;
        // Cut whole UTF-16 characters off the end, never half a surrogate pair.
        var end = text.Length;
        while (end > 0)
        {
            end--;
            if (end > 0 && char.IsLowSurrogate(text[end])) end--;
            var candidate = string.Concat(text.AsSpan(0, end), "…");
            if (_font.MeasureText(candidate) <= room) return candidate;
        }
        return "";
    }

    public void Dispose()
    {
        _fill.Dispose();
        _stroke.Dispose();
        _font.Dispose();
    }
}
