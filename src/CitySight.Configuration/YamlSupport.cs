using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CitySight.Configuration;

/// <summary>One YAML file being read: where it is, how to name it in errors, and the shared error list.</summary>
/// <param name="text">The file's text when it is not (yet) on the disk as it will be; null: read the file.</param>
internal sealed partial class YamlSource(string display, string fullPath, ConfigFile file, List<ConfigError> errors, string? text = null)
{
    public static readonly Mark FileStart = new(0, 1, 1);

    /// <summary>The path as shown in errors (as given by the caller, or derived from it).</summary>
    public string Display { get; } = display;
    public string FullPath { get; } = fullPath;
    public string Folder => Path.GetDirectoryName(FullPath)!;
    /// <summary>Which file's keys (<see cref="ConfigKeys"/>) apply here.</summary>
    public ConfigFile File { get; } = file;

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
        string content;
        try
        {
            content = text ?? System.IO.File.ReadAllText(FullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            FileError(e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : $"cannot read file: {e.Message}");
            return false;
        }

        var scanner = new Scanner(new StringReader(content));
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
        catch (ArgumentException)
        {
            // YamlDotNet 18 throws this ("unsupported event") for an alias where it cannot build a node, e.g. " *a" after
            // the last key (found by ConfigFuzzTests).
            Error(scanner.CurrentPosition, "", "YAML syntax error: the parser stopped here; look for a misplaced alias (*name) or indentation");
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
/// A YAML mapping whose allowed keys are those declared under its <see cref="Schema"/> in <see cref="ConfigKeys"/>.
/// Unknown keys are reported when the section is opened, so a typo never silently falls back to a default. Getters
/// take the key's range from its declaration and return null for "absent" and for "present but invalid" (the error is
/// already recorded), so callers just apply defaults and carry on collecting errors.
/// </summary>
internal sealed class Section
{
    private readonly Dictionary<string, (YamlScalarNode Key, YamlNode Value)> _entries = new(StringComparer.Ordinal);

    private Section(YamlSource src, string path, string schema, Mark anchor)
    {
        Src = src;
        Path = path;
        Schema = schema;
        Anchor = anchor;
    }

    public YamlSource Src { get; }
    /// <summary>Dotted field path of this mapping as errors show it ("cameras[2].zones[0]"), "" for a file's top level.</summary>
    public string Path { get; }
    /// <summary>Where its keys are declared in <see cref="ConfigKeys"/> ("cameras[].zones[]").</summary>
    public string Schema { get; }
    /// <summary>Where "required" errors point: the key that introduced this mapping, or the list item.</summary>
    public Mark Anchor { get; }

    /// <summary>
    /// Opens <paramref name="node"/> as a mapping of the keys declared under <paramref name="schema"/>. A null node gives
    /// an empty section (everything at its default); anything other than a mapping is an error and gives null.
    /// </summary>
    public static Section? Open(YamlSource src, YamlNode? node, string path, Mark anchor, string schema)
    {
        var allowed = ConfigKeys.NamesUnder(src.File, schema);
        var section = new Section(src, path, schema, anchor);
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

    /// <summary>The declaration of one of this section's keys.</summary>
    public ConfigKey Key(string key) => ConfigKeys.Get(Src.File, SchemaOf(key));

    private string SchemaOf(string key) => Schema.Length == 0 ? key : $"{Schema}.{key}";

    public string Field(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    /// <summary>True when the key is written with a value (not absent, not null).</summary>
    public bool Has(string key) => Value(key) is not null;

    /// <summary>The value written for a declared key (reading an undeclared one is a bug and throws).</summary>
    public YamlNode? Value(string key)
    {
        _ = Key(key);
        return _entries.TryGetValue(key, out var e) && !YamlSource.IsNull(e.Value) ? e.Value : null;
    }

    /// <summary>Where the key itself is written (for errors about the whole entry); the section anchor when absent.</summary>
    public Mark KeyMark(string key) => _entries.TryGetValue(key, out var e) ? e.Key.Start : Anchor;

    public void Required(string key, string? hint = null) =>
        Src.Error(Anchor, Field(key), hint is null ? "is required" : $"is required ({hint})");

    public Section? Child(string key) => Open(Src, Value(key), Field(key), KeyMark(key), SchemaOf(key));

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

    public int? Int(string key)
    {
        if (Value(key) is not { } n) return null;
        var k = Key(key);
        return Scalars.Int(Src, n, Field(key), (int)(k.Min ?? int.MinValue), k.Max is { } max ? (int)max : int.MaxValue);
    }

    /// <summary>A number within its declared range.</summary>
    public double? Number(string key, bool required = false)
    {
        var node = Value(key);
        if (node is null)
        {
            if (required) Required(key);
            return null;
        }
        var k = Key(key);
        return k.Min is null && k.Max is null
            ? Scalars.Number(Src, node, Field(key))
            : Scalars.Range(Src, node, Field(key), k.Min ?? double.MinValue, k.Max ?? double.MaxValue, k.MinExclusive);
    }

    public bool? Bool(string key) => Value(key) is { } n ? Scalars.Bool(Src, n, Field(key)) : null;

    /// <summary>A duration; one declared "greater than 0" must be (its upper bound, where declared, the reader checks).</summary>
    public TimeSpan? Duration(string key)
    {
        if (Value(key) is not { } n || Scalars.Duration(Src, n, Field(key)) is not { } d) return null;
        if (d > TimeSpan.Zero || !Key(key).MinExclusive) return d;
        Src.Error(n.Start, Field(key), $"must be greater than 0 (got {(n is YamlScalarNode s ? s.Value : d.ToString())})");
        return null;
    }

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
