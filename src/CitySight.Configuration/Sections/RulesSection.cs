using CitySight.Domain;
using CitySight.Rules;
using YamlDotNet.RepresentationModel;

namespace CitySight.Configuration;

/// <summary>rules: when detections become cases, globally and per case type (rules.case_types).</summary>
internal static class RulesSection
{
    public static RuleOptions Read(Section top, IReadOnlyList<CaseType> caseTypes)
    {
        // A loaded config always has per-type rules: the built-in ones, overridden by rules.case_types.
        var r = new RuleOptions { CaseTypes = new Dictionary<string, CaseTypeRuleOverrides>() };
        if (top.Child("rules") is not { } sec) return r;
        return r with
        {
            MinConfidence = (float?)sec.Number("min_confidence") ?? r.MinConfidence,
            ConfirmSamples = sec.Int("confirm_samples") ?? r.ConfirmSamples,
            SameObjectIoU = (float?)sec.Number("same_object_iou") ?? r.SameObjectIoU,
            // Zero is allowed: it turns deduplication off (every confirmed sighting becomes its own case).
            DedupWindow = sec.Duration("dedup_window") ?? r.DedupWindow,
            CaseTypes = ReadCaseTypeRules(sec, caseTypes) ?? r.CaseTypes,
            StallItemStill = sec.Child("street_stall")?.Duration("item_still") ?? r.StallItemStill,
            StallReach = (float?)sec.Child("street_stall")?.Number("reach") ?? r.StallReach,
        };
    }

    /// <summary>rules.case_types: a mapping from a configured case type id to what it overrides of that type's defaults.</summary>
    private static Dictionary<string, CaseTypeRuleOverrides>? ReadCaseTypeRules(Section rules, IReadOnlyList<CaseType> caseTypes)
    {
        if (rules.Value("case_types") is not { } node) return null;
        var src = rules.Src;
        var field = rules.Field("case_types");
        if (node is not YamlMappingNode map)
        {
            src.Error(node.Start, field, $"expected a mapping from case type to its rules, e.g. illegal_parking: {{min_dwell: 10m}} (got {YamlSource.Describe(node)})");
            return null;
        }
        var known = caseTypes.Select(t => t.Id).ToList();
        var result = new Dictionary<string, CaseTypeRuleOverrides>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Children)
        {
            if (k is not YamlScalarNode { Value: { } id } ks)
            {
                src.Error(k.Start, field, $"keys must be case type ids (got {YamlSource.Describe(k)})");
                continue;
            }
            var f = $"{field}.{id}";
            if (!known.Contains(id))
            {
                var hint = YamlSource.Closest(id, known) is { } near ? $"did you mean '{near}'? " : "";
                src.Error(ks.Start, f, $"unknown case type '{YamlSource.Shorten(id)}'; {hint}known: {string.Join(", ", known)} (a new type must be added under case_types first)");
                continue;
            }
            if (Section.Open(src, v, f, ks.Start, "rules.case_types.TYPE") is not { } t) continue;
            var dwell = t.Duration("min_dwell");
            var maxDwell = TimeSpan.FromSeconds(t.Key("min_dwell").Max!.Value);
            if (dwell > maxDwell)
            {
                src.Error(t.Value("min_dwell")!.Start, t.Field("min_dwell"), $"must be at most {Durations.Format(maxDwell)} (got {((YamlScalarNode)t.Value("min_dwell")!).Value})");
                dwell = null;
            }
            result[id] = new CaseTypeRuleOverrides
            {
                MinConfidence = (float?)t.Number("min_confidence"),
                MinDwell = dwell,
                RequireStationary = t.Bool("stationary"),
                StationaryRadius = t.Number("stationary_radius"),
                ReportOnce = t.Bool("report_once"),
            };
        }
        return result;
    }
}
