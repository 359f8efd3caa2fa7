using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CitySight.Configuration;

/// <summary>One YAML file being read: where it is, how to name it in errors, and the shared error list.</summary>
internal sealed partial class YamlSource(string display, string fullPath, List<ConfigError> errors)
{
    public static readonly Mark FileStart = new(0, 1, 1);

    /// <summary>The path as shown in errors (as given by the caller, or derived from it).</summary>
    public string Display { get; } = display;
    public string FullPath { get; } = fullPath;
    public string Folder => Path.GetDirectoryName(FullPath)!;

    public void Error(Mark at, string field, string message) =>
        errors.Add(new ConfigError(Display, (int)at.Line, (int)at.Column, field, RedactUrls(message)));

    /// <summary>Error with no position (the file itself cannot be read).</summary>
    public void FileError(string message) => errors.Add(new ConfigError(Display, 0, 0, "", RedactUrls(message)));

    /// <summary>Absolute path for a path written in this file: relative ones resolve against this file's folder.</summary>
    public string Resolve(string path) => Path.GetFullPath(path, Folder);

    /// <summary>
    /// Parses the file. False when it cannot be read or is not valid YAML (the error is recorded);
    /// true with a null root for an empty file.
    /// </summary>
    public bool TryLoad(out YamlNode? root)
    {
        root = null;
        string text;
        try
        {
            text = File.ReadAllText(FullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            FileError(e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : $"cannot read file: {e.Message}");
            return false;
        }

        var scanner = new Scanner(new StringReader(text));
        var stream = new YamlStream();
        try
        {
            stream.Load(new Parser(scanner));
        }
        catch (YamlException e)
        {
            Error(e.Start, "", $"YAML syntax error: {e.Message}");
            return false;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet 18 throws this (with no position) for some unclosed flow collections, e.g. "[1, 2" followed
            // by more keys; the scanner's position is where it gave up, which is the best line we can offer.
            Error(scanner.CurrentPosition, "", "YAML syntax error: the parser stopped here; look above for an unclosed '[', '{' or quote");
            return false;
        }

        if (stream.Documents.Count > 1)
        {
            Error(stream.Documents[1].RootNode.Start, "", $"expected one YAML document, found {stream.Documents.Count} (remove the '---' separators)");
            return false;
        }
        root = stream.Documents.Count == 1 ? stream.Documents[0].RootNode : null;
        if (IsNull(root)) root = null;
        return true;
    }

    /// <summary>A plain <c>key:</c> with nothing after it, <c>~</c> or <c>null</c>: the YAML way of saying "not set".</summary>
    public static bool IsNull(YamlNode? node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } s
        && (string.IsNullOrEmpty(s.Value) || s.Value is "~" or "null" or "Null" or "NULL");

    public static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s => $"'{Shorten(s.Value ?? "")}'",
        _ => node.NodeType.ToString(),
    };

    public static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";

    // Belt and braces: whatever reaches an error message, scheme://user:password@ never shows its password.
    // Greedy up to the last '@' before the path, so a password that itself holds '@' is hidden whole
    // (Secrets.RedactUrl stops at the first '@').
    [GeneratedRegex(@"(?<pre>[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:]*):[^\s/]*@", RegexOptions.CultureInvariant)]
    private static partial Regex UrlCredentials();

    public static string RedactUrls(string text) => UrlCredentials().Replace(text, "${pre}:***@");

    /// <summary>"did you mean" for a close typo (edit distance at most 2, or a third of the word).</summary>
    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            var d = Distance(word.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDistance) (best, bestDistance) = (c, d);
        }
        return best is not null && bestDistance <= Math.Max(2, word.Length / 3) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) prev[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}

/// <summary>
/// A YAML mapping with a fixed set of allowed keys. Unknown keys are reported when the section is opened, so a typo
/// never silently falls back to a default. Getters return null for "absent" and for "present but invalid" (the
/// error is already recorded), so callers just apply defaults and carry on collecting errors.
/// </summary>
internal sealed class Section
{
    private readonly Dictionary<string, (YamlScalarNode Key, YamlNode Value)> _entries = new(StringComparer.Ordinal);

    private Section(YamlSource src, string path, Mark anchor)
    {
        Src = src;
        Path = path;
        Anchor = anchor;
    }

    public YamlSource Src { get; }
    /// <summary>Dotted field path of this mapping, "" for a file's top level.</summary>
    public string Path { get; }
    /// <summary>Where "required" errors point: the key that introduced this mapping, or the list item.</summary>
    public Mark Anchor { get; }

    /// <summary>
    /// Opens <paramref name="node"/> as a mapping. A null node gives an empty section (everything at its default);
    /// anything other than a mapping is an error and gives null.
    /// </summary>
    public static Section? Open(YamlSource src, YamlNode? node, string path, Mark anchor, IReadOnlyList<string> allowed)
    {
        var section = new Section(src, path, anchor);
        if (node is null || YamlSource.IsNull(node)) return section;
        if (node is not YamlMappingNode map)
        {
            src.Error(node.Start, path, $"expected a mapping with keys {string.Join(", ", allowed)} (got {YamlSource.Describe(node)})");
            return null;
        }
        foreach (var (k, v) in map.Children)
        {
            if (k is not YamlScalarNode { Value: { } key } ks)
            {
                src.Error(k.Start, path, $"keys must be plain names (got {YamlSource.Describe(k)})");
                continue;
            }
            if (!allowed.Contains(key))
            {
                var hint = YamlSource.Closest(key, allowed) is { } near ? $"did you mean '{near}'? " : "";
                src.Error(ks.Start, section.Field(key), $"unknown key '{key}'; {hint}allowed: {string.Join(", ", allowed)}");
                continue;
            }
            section._entries[key] = (ks, v);
        }
        return section;
    }

    public string Field(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    /// <summary>True when the key is written with a value (not absent, not null).</summary>
    public bool Has(string key) => Value(key) is not null;

    public YamlNode? Value(string key) =>
        _entries.TryGetValue(key, out var e) && !YamlSource.IsNull(e.Value) ? e.Value : null;

    /// <summary>Where the key itself is written (for errors about the whole entry); the section anchor when absent.</summary>
    public Mark KeyMark(string key) => _entries.TryGetValue(key, out var e) ? e.Key.Start : Anchor;

    public void Required(string key, string? hint = null) =>
        Src.Error(Anchor, Field(key), hint is null ? "is required" : $"is required ({hint})");

    public Section? Child(string key, IReadOnlyList<string> allowed) => Open(Src, Value(key), Field(key), KeyMark(key), allowed);

    public string? Text(string key, bool required = false)
    {
        var node = Value(key);
        if (node is null)
        {
            if (required) Required(key);
            return null;
        }
        var text = Scalars.Text(Src, node, Field(key));
        if (text is not null && required && text.Trim().Length == 0)
        {
            Src.Error(node.Start, Field(key), "must not be empty");
            return null;
        }
        return text;
    }

    public int? Int(string key, int min, int max) => Value(key) is { } n ? Scalars.Int(Src, n, Field(key), min, max) : null;

    public double? Number(string key, bool required = false)
    {
        var node = Value(key);
        if (node is null)
        {
            if (required) Required(key);
            return null;
        }
        return Scalars.Number(Src, node, Field(key));
    }

    public bool? Bool(string key) => Value(key) is { } n ? Scalars.Bool(Src, n, Field(key)) : null;

    public TimeSpan? Duration(string key) => Value(key) is { } n ? Scalars.Duration(Src, n, Field(key)) : null;

    /// <summary>A list of text items, each with its node (for per-item errors).</summary>
    public List<(string Value, YamlNode Node, string Field)>? TextList(string key) =>
        Value(key) is { } n ? Scalars.TextList(Src, n, Field(key)) : null;

    /// <summary>A list of items (the key present with an explicit <c>[]</c> gives an empty list).</summary>
    public YamlSequenceNode? List(string key)
    {
        var node = Value(key);
        if (node is null) return null;
        if (node is YamlSequenceNode seq) return seq;
        Src.Error(node.Start, Field(key), $"expected a list (got {YamlSource.Describe(node)})");
        return null;
    }
}

/// <summary>Scalar conversions. Every failure is recorded at the value's position and returns null.</summary>
internal static class Scalars
{
    public static string? Text(YamlSource src, YamlNode node, string field)
    {
        if (node is YamlScalarNode { Value: { } v }) return v;
        src.Error(node.Start, field, $"expected text (got {YamlSource.Describe(node)})");
        return null;
    }

    public static int? Int(YamlSource src, YamlNode node, string field, int min, int max)
    {
        if (Text(src, node, field) is not { } s) return null;
        if (!int.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
        {
            src.Error(node.Start, field, $"expected a whole number (got {YamlSource.Describe(node)})");
            return null;
        }
        if (v < min || v > max)
        {
            src.Error(node.Start, field, max == int.MaxValue
                ? $"must be at least {min} (got {v})"
                : $"must be between {min} and {max} (got {v})");
            return null;
        }
        return v;
    }

    public static double? Number(YamlSource src, YamlNode node, string field)
    {
        if (Text(src, node, field) is not { } s) return null;
        if (!double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
        {
            src.Error(node.Start, field, $"expected a number (got {YamlSource.Describe(node)})");
            return null;
        }
        return v;
    }

    /// <summary>A number in [min, max] (or (min, max] when <paramref name="minExclusive"/>).</summary>
    public static double? Range(YamlSource src, YamlNode node, string field, double min, double max, bool minExclusive = false)
    {
        if (Number(src, node, field) is not { } v) return null;
        if (v > max || v < min || (minExclusive && v == min))
        {
            var range = minExclusive
                ? $"must be greater than {Fmt(min)} and at most {Fmt(max)}"
                : $"must be between {Fmt(min)} and {Fmt(max)}";
            src.Error(node.Start, field, $"{range} (got {Fmt(v)})");
            return null;
        }
        return v;
    }

    public static bool? Bool(YamlSource src, YamlNode node, string field)
    {
        if (Text(src, node, field) is not { } s) return null;
        // Only true/false: YAML 1.1's yes/no/on/off are ambiguous enough to be worth an error.
        if (string.Equals(s, "true", StringComparison.OrdinalIgnoreCase)) return true;
        if (string.Equals(s, "false", StringComparison.OrdinalIgnoreCase)) return false;
        src.Error(node.Start, field, $"expected true or false (got {YamlSource.Describe(node)})");
        return null;
    }

    public static TimeSpan? Duration(YamlSource src, YamlNode node, string field)
    {
        if (Text(src, node, field) is not { } s) return null;
        if (Durations.TryParse(s, out var d)) return d;
        src.Error(node.Start, field, $"expected a duration (got {YamlSource.Describe(node)}); use {Durations.AcceptedForms}");
        return null;
    }

    public static List<(string Value, YamlNode Node, string Field)>? TextList(YamlSource src, YamlNode node, string field)
    {
        if (node is not YamlSequenceNode seq)
        {
            src.Error(node.Start, field, $"expected a list like [a, b] (got {YamlSource.Describe(node)})");
            return null;
        }
        var items = new List<(string, YamlNode, string)>();
        var i = 0;
        foreach (var item in seq.Children)
        {
            var f = $"{field}[{i++}]";
            if (Text(src, item, f) is { } v) items.Add((v.Trim(), item, f));
        }
        return items;
    }

    public static string Fmt(double v) => v.ToString("0.################", CultureInfo.InvariantCulture);
}
