using SkiaSharp;

namespace CitySight.Imaging;

/// <summary>
/// The typeface evidence pictures write their captions and labels with: one that has Chinese glyphs, found once per
/// process. Without one the pictures still come out, with the missing-glyph box in place of each Chinese character,
/// so the host should warn once (see <see cref="HasCjkFont"/>).
/// </summary>
public static class EvidenceCaption
{
    /// <summary>The Debian package that provides the first font looked for (scripts/setup.sh installs it).</summary>
    public const string FontPackage = "fonts-noto-cjk";

    /// <summary>
    /// Looked for first, by path: SkiaSharp's NoDependencies native library has no fontconfig, so the system's font
    /// lookup may not see them. Noto first (the most complete), then the smaller packages a box may have instead.
    /// </summary>
    internal static readonly string[] WellKnownFontPaths =
    [
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", // fonts-noto-cjk
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",           // fonts-wqy-zenhei
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", // fonts-droid-fallback
    ];

    private static readonly (SKTypeface Typeface, string Source, bool Cjk) Found = Find();

    /// <summary>True when a typeface with Chinese glyphs was found; false means captions show boxes for Chinese text.</summary>
    public static bool HasCjkFont => Found.Cjk;

    /// <summary>Where the typeface came from (file and family, or the fallback), for the host's log.</summary>
    public static string FontSource => Found.Source;

    /// <summary>The typeface to draw with (shared, never disposed: it lives as long as the process).</summary>
    internal static SKTypeface Typeface => Found.Typeface;

    private static (SKTypeface, string, bool) Find()
    {
        foreach (var path in WellKnownFontPaths)
            if (File.Exists(path) && FromCollection(path) is { } typeface)
                return (typeface, $"{path} ({typeface.FamilyName})", true);

        // Then what the native library's own font manager finds. Without fontconfig it lists /usr/share/fonts but
        // does not match by character (MatchCharacter gives null), so also ask each family it lists.
        var fonts = SKFontManager.Default;
        if (fonts.MatchCharacter('中') is { } matched && HasChinese(matched))
            return (matched, $"font manager match ({matched.FamilyName})", true);
        if (FromFamilies(fonts) is { } listed)
            return (listed, $"font manager family {listed.FamilyName}", true);

        var fallback = SKTypeface.Default;
        return (fallback, $"default typeface ({fallback.FamilyName}), no Chinese glyphs: install {FontPackage}", false);
    }

    /// <summary>
    /// The face of a font file (a .ttc holds several) with Chinese glyphs, preferring the Simplified Chinese one: the
    /// same code point is drawn differently for Japanese or Korean readers, and these pictures are read in mainland China.
    /// </summary>
    private static SKTypeface? FromCollection(string path) => PreferSimplified(FacesOf(path));

    private static IEnumerable<SKTypeface?> FacesOf(string path)
    {
        for (var index = 0; index < 16; index++)
        {
            var face = SKTypeface.FromFile(path, index);
            if (face is null) yield break;
            yield return face;
        }
    }

    /// <summary>The listed families' faces, likewise.</summary>
    private static SKTypeface? FromFamilies(SKFontManager fonts) => PreferSimplified(fonts.FontFamilies.Select(fonts.MatchFamily));

    /// <summary>The first face with Chinese glyphs, or the first Simplified Chinese one after it; the others disposed.</summary>
    private static SKTypeface? PreferSimplified(IEnumerable<SKTypeface?> faces)
    {
        SKTypeface? first = null;
        foreach (var face in faces)
        {
            if (face is null) continue;
            if (!HasChinese(face))
            {
                face.Dispose();
                continue;
            }
            if (face.FamilyName.EndsWith(" SC", StringComparison.Ordinal))
            {
                first?.Dispose();
                return face;
            }
            if (first is null) first = face;
            else face.Dispose();
        }
        return first;
    }

    /// <summary>Whether the face maps the characters of the case types to real glyphs (0 is the missing-glyph box).</summary>
    internal static bool HasChinese(SKTypeface face)
    {
        using var font = new SKFont(face);
        return font.ContainsGlyphs("中暴露垃圾违规");
    }
}
