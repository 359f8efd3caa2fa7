using System.Globalization;
using System.Text.RegularExpressions;

namespace CitySight.Configuration;

/// <summary>
/// Durations as written in the YAML: a plain number of seconds (<c>90</c>, <c>1.5</c>) or number+unit parts,
/// largest unit first, each at most once: <c>500ms</c>, <c>5s</c>, <c>10m</c>, <c>1h</c>, <c>1h30m</c>, <c>2m30s</c>.
/// Units are lower case only, so <c>m</c> (minutes) can never be mistaken for months or <c>M</c>.
/// </summary>
public static partial class Durations
{
    public const string AcceptedForms =
        "a number of seconds (90, 1.5) or number+unit parts in the order h, m, s, ms (500ms, 5s, 10m, 1h, 1h30m)";

    private const string Num = @"([0-9]+(?:\.[0-9]+)?)";

    [GeneratedRegex($@"^{Num}$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainSeconds();

    // (?!s) after "m" keeps "500ms" from being read as 500 minutes followed by a stray "s".
    [GeneratedRegex($@"^(?:{Num}h)?(?:{Num}m(?!s))?(?:{Num}s)?(?:{Num}ms)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Parts();

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim();

        decimal ticks;
        try
        {
            ticks = Ticks(s);
        }
        catch (OverflowException) { return false; }
        if (ticks < 0) return false;

        if (ticks > TimeSpan.MaxValue.Ticks) return false;
        value = TimeSpan.FromTicks((long)decimal.Truncate(ticks));
        return true;
    }

    /// <summary>Ticks for the text, or -1 when it matches no accepted form.</summary>
    private static decimal Ticks(string s)
    {
        decimal ticks;
        if (PlainSeconds().Match(s) is { Success: true } plain)
        {
            ticks = Dec(plain.Groups[1].Value) * TimeSpan.TicksPerSecond;
        }
        else
        {
            var m = Parts().Match(s);
            // The pattern also matches the empty string; at least one part must be present.
            if (!m.Success || m.Length == 0) return -1;
            ticks = 0;
            long[] unit = [TimeSpan.TicksPerHour, TimeSpan.TicksPerMinute, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMillisecond];
            for (var i = 0; i < unit.Length; i++)
                if (m.Groups[i + 1].Success) ticks += Dec(m.Groups[i + 1].Value) * unit[i];
        }
        return ticks;
    }

    /// <exception cref="FormatException">The text is not one of <see cref="AcceptedForms"/>.</exception>
    public static TimeSpan Parse(string text) =>
        TryParse(text, out var v) ? v : throw new FormatException($"'{text}' is not a duration; use {AcceptedForms}");

    private static decimal Dec(string s)
    {
        // Digits only (the regex guarantees it), so the only failure is a number too big for decimal.
        return decimal.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var d)
            ? d
            : throw new OverflowException();
    }

    /// <summary>Whole hours, minutes and seconds as written in the YAML: 18h12m15s, 24h, 30s.</summary>
    public static string Format(TimeSpan d)
    {
        var text = (d.Days * 24 + d.Hours > 0 ? $"{d.Days * 24 + d.Hours}h" : "") + (d.Minutes > 0 ? $"{d.Minutes}m" : "") + (d.Seconds > 0 ? $"{d.Seconds}s" : "");
        return text.Length > 0 ? text : "0s";
    }
}
