namespace CitySight.Imaging.Tests;

/// <summary>
/// A test that needs a font with Chinese glyphs: skipped, saying which package to install, only on a machine without
/// one (scripts/setup.sh installs it, so CI runs these).
/// </summary>
public sealed class CjkFontFactAttribute : FactAttribute
{
    public CjkFontFactAttribute()
    {
        if (!EvidenceCaption.HasCjkFont)
            Skip = $"no font with Chinese glyphs ({EvidenceCaption.FontSource}); apt-get install {EvidenceCaption.FontPackage}";
    }
}
