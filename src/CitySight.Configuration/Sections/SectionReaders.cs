using System.Text.RegularExpressions;
using CitySight.Domain;

namespace CitySight.Configuration;

/// <summary>Readers shared by several sections: files, secrets' variable names, words, time zones, case type lists.</summary>
internal static partial class SectionReaders
{
    /// <summary>Environment variable names as a shell accepts them.</summary>
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    public static partial Regex EnvNamePattern();

    /// <summary>The NAME of an environment variable holding a secret, checked to be set; never its value.</summary>
    public static string? EnvName(this Section sec, string key, string holds)
    {
        if (sec.Text(key) is not { } name) return null;
        if (!EnvNamePattern().IsMatch(name))
            // Someone may have pasted the secret itself here: never echo it back.
            sec.Src.Error(sec.Value(key)!.Start, sec.Field(key), $"must be the NAME of an environment variable holding {holds} (letters, digits, '_'), not the secret");
        else if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)))
            sec.Src.Error(sec.Value(key)!.Start, sec.Field(key), $"environment variable {name} is not set (or empty)");
        else return name;
        return null;
    }

    /// <summary>A file path resolved against the config file's folder, which must exist (the error is recorded otherwise).</summary>
    public static string? ExistingFile(this Section sec, string key)
    {
        if (sec.Text(key) is not { Length: > 0 } p) return null;
        var full = sec.Src.Resolve(p);
        if (!File.Exists(full))
        {
            sec.Src.Error(sec.Value(key)!.Start, sec.Field(key), $"file not found: {p} (resolved to {full})");
            return null;
        }
        return full;
    }

    /// <summary>Two keys that go together (a client certificate and its key): both or neither.</summary>
    public static void BothOrNeither(this Section sec, string a, string b)
    {
        if (sec.Has(a) != sec.Has(b))
            sec.Src.Error(sec.KeyMark(sec.Has(a) ? a : b), sec.Field(sec.Has(a) ? b : a), $"{a} and {b} go together: give both or neither");
    }

    /// <summary>One of a fixed set of words (case-insensitive), or null when absent or invalid (the error is recorded).</summary>
    public static T? Choice<T>(this Section sec, string key) where T : struct, Enum
    {
        if (sec.Text(key) is not { } text) return null;
        if (Enum.TryParse<T>(text.Trim(), ignoreCase: true, out var value) && !int.TryParse(text, out _)) return value;
        var allowed = string.Join(", ", ConfigKeys.ChoicesOf<T>());
        sec.Src.Error(sec.Value(key)!.Start, sec.Field(key), $"'{YamlSource.Shorten(text)}' is not one of: {allowed}");
        return null;
    }

    /// <summary>An IANA time zone id the system knows (e.g. Asia/Shanghai), or null when absent or unknown (the error is recorded).</summary>
    public static TimeZoneInfo? TimeZone(this Section sec, string key)
    {
        if (sec.Text(key) is not { } text) return null;
        var id = text.Trim();
        if (TimeZones.TryFind(id, out var tz)) return tz;
        // Without the system's time zone data the default still works (China has no daylight saving).
        if (id == TimeZones.DefaultId) return TimeZones.Default;
        string hint;
        if (id.Contains("beijing", StringComparison.OrdinalIgnoreCase) || id.Equals("China", StringComparison.OrdinalIgnoreCase) || id.Equals("CST", StringComparison.OrdinalIgnoreCase))
            hint = "China Standard Time is 'Asia/Shanghai'; ";
        else
        {
            var ids = TimeZoneInfo.GetSystemTimeZones().Select(z => z.Id);
            hint = YamlSource.Closest(id, ids) is { } near ? $"did you mean '{near}'? " : "";
        }
        sec.Src.Error(sec.Value(key)!.Start, sec.Field(key),
            $"unknown time zone '{YamlSource.Shorten(id)}'; {hint}use an IANA id such as Asia/Shanghai or Asia/Urumqi");
        return null;
    }

    /// <summary>A non-empty list of known case type ids; null (with errors) otherwise.</summary>
    public static List<string>? KnownCaseTypes(this Section sec, string key, IReadOnlyList<string> known)
    {
        if (sec.TextList(key) is not { } items) return null;
        if (items.Count == 0)
        {
            sec.Src.Error(sec.Value(key)!.Start, sec.Field(key), $"must name at least one case type ({string.Join(", ", known)})");
            return null;
        }
        var ok = true;
        var result = new List<string>();
        foreach (var (value, node, field) in items)
        {
            if (known.Contains(value))
            {
                if (!result.Contains(value)) result.Add(value);
                continue;
            }
            ok = false;
            var hint = YamlSource.Closest(value, known) is { } near ? $"did you mean '{near}'? " : "";
            sec.Src.Error(node.Start, field,
                $"unknown case type '{YamlSource.Shorten(value)}'; {hint}known: {string.Join(", ", known)} (more can be added under case_types in citysight.yaml)");
        }
        return ok ? result : null;
    }
}
