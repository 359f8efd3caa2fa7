using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using CitySight.Domain;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace CitySight.Configuration;

/// <summary>
/// One camera's <c>zones:</c> in a camera group file's text: read as written, and rewritten in place. Only that block's
/// characters change (found by the parser's marks): every other entry, key order, comment and line ending stays byte
/// for byte. The new block takes the style of the old one (a flow list stays on its line; a block list keeps its
/// indentation); comments inside the old block go with it.
/// </summary>
public static partial class ZoneYaml
{
    private const string ZonesKey = "zones";

    /// <summary>Whether the file's text defines the camera (ids compare case-insensitively, as the loader does).</summary>
    /// <exception cref="YamlException">The text is not YAML.</exception>
    public static bool HasCamera(string text, string cameraId) => FindCamera(Parse(text).Root, cameraId) is not null;

    /// <summary>The camera's zones as the file writes them; null when the file has no such camera.</summary>
    /// <exception cref="YamlException">The text is not YAML.</exception>
    public static IReadOnlyList<ZoneSpec>? Read(string text, string cameraId)
    {
        if (FindCamera(Parse(text).Root, cameraId) is not { } camera) return null;
        return Value(camera, ZonesKey) is YamlSequenceNode seq ? seq.Children.OfType<YamlMappingNode>().Select(ReadZone).ToList() : [];
    }

    /// <summary>The text with the camera's zones replaced by <paramref name="zones"/> (added after its last key when it had none).</summary>
    /// <exception cref="ArgumentException">The file has no such camera.</exception>
    /// <exception cref="YamlException">The text is not YAML.</exception>
    /// <exception cref="FormatException">A schedule given as a list or mapping that is not one YAML value by itself.</exception>
    public static string Splice(string text, string cameraId, IReadOnlyList<ZoneSpec> zones)
    {
        var (root, ends) = Parse(text);
        var camera = FindCamera(root, cameraId) ?? throw new ArgumentException($"the file defines no camera '{cameraId}'", nameof(cameraId));
        var nl = text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        var entry = camera.Children.FirstOrDefault(p => p.Key is YamlScalarNode { Value: ZonesKey });
        if (entry.Key is { } key)
        {
            var value = entry.Value;
            switch (value)
            {
                case YamlSequenceNode { Style: SequenceStyle.Flow } or YamlMappingNode { Style: MappingStyle.Flow }:
                    return Replace(text, (int)value.Start.Index, ends[value.Start.Index], Flow(zones));
                case YamlSequenceNode block:
                    // From the first item's dash to the end of the last item's line: the indentation before it and the
                    // comment lines after it are not the block's. A zone saved as it was keeps its text, comments included.
                    var column = (int)block.Start.Column - 1;
                    var kept = block.Children.OfType<YamlMappingNode>().Select(item => (Zone: OldCanonical(ReadZone(item)), Text: ItemText(text, item, ends))).ToList();
                    return Replace(text, (int)block.Start.Index, EndOfLine(text, ContentEnd(block, ends)),
                        zones.Count == 0 ? "[]" : Block(zones, column, nl, kept));
                case YamlScalarNode { Value.Length: > 0 }:
                    // zones: ~ or zones: null
                    return Replace(text, (int)value.Start.Index, (int)value.End.Index, Flow(zones));
                default:
                    // "zones:" with nothing after it (or a comment): the list goes on the lines below the key.
                    var eol = EndOfLine(text, (int)key.End.Index);
                    var indent = (int)key.Start.Column - 1 + 2;
                    return Replace(text, eol, eol, nl + new string(' ', indent) + (zones.Count == 0 ? "[]" : Block(zones, indent, nl)));
            }
        }
        if (camera.Style == MappingStyle.Flow)
        {
            var brace = ends[camera.Start.Index] - 1;
            return Replace(text, brace, brace, $", {ZonesKey}: {Flow(zones)}");
        }
        // After the camera's last key, on lines of their own; comments after it (the next camera's) stay after.
        var keyColumn = (int)camera.Children.First().Key.Start.Column - 1;
        var at = EndOfLine(text, ContentEnd(camera, ends));
        var lines = new StringBuilder().Append(nl).Append(' ', keyColumn).Append(ZonesKey).Append(':');
        if (zones.Count == 0) lines.Append(" []");
        else lines.Append(nl).Append(' ', keyColumn + 2).Append(Block(zones, keyColumn + 2, nl));
        return Replace(text, at, at, lines.ToString());
    }

    // ---- reading ----

    /// <summary>
    /// The document, and where each flow list or mapping ends (after its closing bracket), by where it starts: the
    /// representation model's end marks of collections are those of their start, so the parser's events tell.
    /// </summary>
    private static (YamlMappingNode? Root, Dictionary<long, int> FlowEnds) Parse(string text)
    {
        var (root, ends) = ParseAny(text);
        return (root as YamlMappingNode, ends);
    }

    private static (YamlNode? Root, Dictionary<long, int> FlowEnds) ParseAny(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        var ends = new Dictionary<long, int>();
        var open = new Stack<long>();
        var parser = new Parser(new StringReader(text));
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case SequenceStart or MappingStart:
                    open.Push(parser.Current.Start.Index);
                    break;
                case SequenceEnd or MappingEnd:
                    // The closing bracket's start (its end mark says the same); only flow collections' are used.
                    ends[open.Pop()] = (int)parser.Current.Start.Index + 1;
                    break;
            }
        }
        return (stream.Documents.Count > 0 ? stream.Documents[0].RootNode : null, ends);
    }

    private static YamlMappingNode? FindCamera(YamlMappingNode? root, string cameraId) =>
        root is not null && Value(root, "cameras") is YamlSequenceNode cameras
            ? cameras.Children.OfType<YamlMappingNode>().FirstOrDefault(c =>
                Value(c, "id") is YamlScalarNode { Value: { } id } && string.Equals(id.Trim(), cameraId, StringComparison.OrdinalIgnoreCase))
            : null;

    private static YamlNode? Value(YamlMappingNode map, string key) =>
        map.Children.FirstOrDefault(p => p.Key is YamlScalarNode s && s.Value == key).Value;

    private static ZoneSpec ReadZone(YamlMappingNode z)
    {
        var name = Value(z, "name") is YamlScalarNode { Value: { } n } ? n.Trim() : "";
        var polygon = new List<NormalisedPoint>();
        if (Value(z, "polygon") is YamlSequenceNode points)
            foreach (var p in points.Children)
                if (p is YamlSequenceNode { Children: [YamlScalarNode x, YamlScalarNode y] } && Number(x) is { } px && Number(y) is { } py)
                    polygon.Add(new NormalisedPoint(px, py));
        List<string>? types = Value(z, "case_types") switch
        {
            YamlSequenceNode seq => seq.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? "").ToList(),
            YamlScalarNode { Value: { Length: > 0 } one } => [one],
            _ => null,
        };
        var exclude = Value(z, "exclude") is YamlScalarNode { Value: { } e } && e.Trim().Equals("true", StringComparison.OrdinalIgnoreCase);
        var schedule = Value(z, "schedule") switch
        {
            null => null,
            YamlScalarNode s => string.IsNullOrWhiteSpace(s.Value) ? null : s.Value,
            var node => FlowText(node),
        };
        return new ZoneSpec(name, polygon, types, exclude, schedule);
    }

    private static double? Number(YamlScalarNode s) =>
        double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>A schedule written as a block list or mapping, on one line (the page edits it as text).</summary>
    private static string FlowText(YamlNode node) => node switch
    {
        YamlSequenceNode seq => "[" + string.Join(", ", seq.Children.Select(FlowText)) + "]",
        YamlMappingNode map => "{" + string.Join(", ", map.Children.Select(p => FlowText(p.Key) + ": " + FlowText(p.Value))) + "}",
        YamlScalarNode s => Scalar(s.Value ?? ""),
        _ => "",
    };

    // ---- writing ----

    private static string Replace(string text, int start, int end, string with) => string.Concat(text.AsSpan(0, start), with, text.AsSpan(end));

    /// <summary>Where the line holding <paramref name="index"/> ends (before its line break), past any trailing comment.</summary>
    private static int EndOfLine(string text, int index)
    {
        var lf = text.IndexOf('\n', index);
        if (lf < 0) return text.Length;
        return lf > 0 && text[lf - 1] == '\r' ? lf - 1 : lf;
    }

    /// <summary>The end of a node's last character of content: a block node's own end mark lies past the comments after it.</summary>
    private static int ContentEnd(YamlNode node, Dictionary<long, int> flowEnds) => node switch
    {
        YamlSequenceNode { Style: SequenceStyle.Flow } or YamlMappingNode { Style: MappingStyle.Flow } => flowEnds[node.Start.Index],
        YamlSequenceNode { Children.Count: > 0 } seq => ContentEnd(seq.Children[^1], flowEnds),
        YamlMappingNode { Children.Count: > 0 } map => ContentEnd(map.Children[^1].Value, flowEnds),
        _ => (int)node.End.Index,
    };

    /// <summary>A block list item from its dash to the end of its last line (its trailing comment included).</summary>
    private static string ItemText(string text, YamlMappingNode item, Dictionary<long, int> ends)
    {
        var dash = text.LastIndexOf('-', (int)item.Start.Index - 1);
        return text[dash..EndOfLine(text, ContentEnd(item, ends))];
    }

    private static string Canonical(ZoneSpec z) => string.Join("\n", Fields(z).Select(f => $"{f.Key}: {f.Value}"));

    /// <summary>An old zone whose schedule this writer would not write: never equal to a new one (it is written anew).</summary>
    private static string OldCanonical(ZoneSpec z)
    {
        try { return Canonical(z); }
        catch (FormatException) { return "\0"; }
    }

    /// <summary>
    /// The zones as a block list whose first dash sits where the caller's cursor is, at <paramref name="column"/>; a zone
    /// equal to one of <paramref name="kept"/> (the old items, at the same column) is written as that item's text was.
    /// </summary>
    private static string Block(IReadOnlyList<ZoneSpec> zones, int column, string nl, IReadOnlyList<(string Zone, string Text)>? kept = null)
    {
        var pad = new string(' ', column);
        var sb = new StringBuilder();
        for (var i = 0; i < zones.Count; i++)
        {
            if (i > 0) sb.Append(nl).Append(pad);
            var canonical = Canonical(zones[i]);
            if (kept?.FirstOrDefault(k => k.Zone == canonical).Text is { } same)
            {
                sb.Append(same);
                continue;
            }
            var first = true;
            foreach (var (k, v) in Fields(zones[i]))
            {
                sb.Append(first ? "- " : nl + pad + "  ").Append(k).Append(": ").Append(v);
                first = false;
            }
        }
        return sb.ToString();
    }

    private static string Flow(IReadOnlyList<ZoneSpec> zones) =>
        "[" + string.Join(", ", zones.Select(z => "{" + string.Join(", ", Fields(z).Select(f => $"{f.Key}: {f.Value}")) + "}")) + "]";

    /// <summary>A zone's keys in the order configs/README.md lists them; defaults (no case types, not exclude, always) left out.</summary>
    private static IEnumerable<(string Key, string Value)> Fields(ZoneSpec z)
    {
        yield return ("name", Scalar(z.Name));
        yield return ("polygon", "[" + string.Join(", ", z.Polygon.Select(p => $"[{Coordinate(p.X)}, {Coordinate(p.Y)}]")) + "]");
        if (z.CaseTypes is { } types) yield return ("case_types", "[" + string.Join(", ", types.Select(Scalar)) + "]");
        if (z.Exclude) yield return ("exclude", "true");
        if (z.Schedule is { } s && s.Trim().Length > 0) yield return ("schedule", ScheduleText(s.Trim()));
    }

    /// <summary>A flow list or mapping as written (on one line); anything else is one quoted window like "06:00-22:00".</summary>
    /// <exception cref="FormatException">A list or mapping that is not one whole YAML value by itself.</exception>
    private static string ScheduleText(string s)
    {
        if (s[0] is not ('[' or '{')) return Quote(s);
        var line = s.ReplaceLineEndings(" ");
        // Written as given, so it must stand alone: one that closed brackets it did not open would reach past the zone.
        try
        {
            var (root, ends) = ParseAny(line);
            if (root is YamlSequenceNode or YamlMappingNode && ends[root.Start.Index] == line.TrimEnd().Length && !line.Contains(" #", StringComparison.Ordinal))
                return line.TrimEnd();
        }
        catch (YamlException)
        {
            // said below
        }
        throw new FormatException($"schedule '{YamlSource.Shorten(line)}' is not one YAML list or mapping, e.g. [{{days: [sat, sun], hours: [\"08:00-20:00\"]}}]");
    }

    /// <summary>Four decimals: a ten-thousandth of the picture, finer than any pixel of a 4K camera.</summary>
    private static string Coordinate(double v) => Math.Round(v, 4).ToString("0.0###", CultureInfo.InvariantCulture);

    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase) { "true", "false", "yes", "no", "on", "off", "null", "y", "n" };

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_.-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainPattern();

    /// <summary>Plain when YAML reads it back as the same text; double-quoted otherwise (names in Chinese, with spaces or colons).</summary>
    private static string Scalar(string s) => PlainPattern().IsMatch(s) && !Reserved.Contains(s) ? s : Quote(s);

    private static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case < ' ': sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture)); break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('"').ToString();
    }
}
