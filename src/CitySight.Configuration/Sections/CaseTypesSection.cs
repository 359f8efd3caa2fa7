using System.Text.RegularExpressions;
using CitySight.Domain;
using YamlDotNet.Core;

namespace CitySight.Configuration;

/// <summary>case_types: the built-in types, overridden field by field by id, plus new ones.</summary>
internal static partial class CaseTypesSection
{
    /// <summary>Case type ids are what detectors and zones refer to; lower snake case like the built-in ones.</summary>
    [GeneratedRegex("^[a-z][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex CaseTypeIdPattern();

    /// <summary>Defaults, with the file's entries overriding by id (field by field) or added after them.</summary>
    public static List<CaseType> Read(Section top)
    {
        var types = CaseType.Defaults.ToList();
        if (top.List("case_types") is not { } seq) return types;
        var src = top.Src;
        var firstAt = new Dictionary<string, Mark>(StringComparer.Ordinal);
        var i = 0;
        foreach (var item in seq.Children)
        {
            var path = $"case_types[{i++}]";
            if (Section.Open(src, item, path, item.Start, "case_types[]") is not { } sec) continue;
            if (sec.Text("id", required: true) is not { } id) continue;
            id = id.Trim();
            if (!CaseTypeIdPattern().IsMatch(id))
            {
                src.Error(sec.Value("id")!.Start, sec.Field("id"), $"'{YamlSource.Shorten(id)}' is not a valid case type id: use lower case letters, digits and _ (e.g. illegal_parking)");
                continue;
            }
            if (firstAt.TryGetValue(id, out var first))
            {
                src.Error(sec.Value("id")!.Start, sec.Field("id"), $"case type '{id}' is listed twice (first at line {first.Line})");
                continue;
            }
            firstAt[id] = sec.Value("id")!.Start;

            var index = types.FindIndex(t => t.Id == id);
            var existing = index >= 0 ? types[index] : null;
            // A new type has no default code or Chinese name, and dispatch needs both.
            var code = sec.Text("code", required: existing is null);
            var nameZh = sec.Text("name_zh", required: existing is null);
            var nameEn = sec.Text("name_en");
            var major = sec.Text("major_class");
            var merged = new CaseType(
                id,
                code ?? existing?.Code ?? "",
                nameZh ?? existing?.NameZh ?? "",
                nameEn ?? existing?.NameEn ?? "",
                major ?? existing?.MajorClass ?? "");
            if (index >= 0) types[index] = merged;
            else types.Add(merged);
        }
        return types;
    }
}
