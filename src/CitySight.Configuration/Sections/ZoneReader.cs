using CitySight.Domain;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CitySight.Configuration;

/// <summary>A camera's zones: names, polygons, the case types they apply to, and their schedules.</summary>
internal static class ZoneReader
{
    public static List<Zone> ReadZones(Section cam, IReadOnlyList<string> known, List<string>? detectors)
    {
        var zones = new List<Zone>();
        if (cam.List("zones") is not { } seq) return zones;
        var src = cam.Src;
        var names = new Dictionary<string, Mark>(StringComparer.Ordinal);
        var i = 0;
        foreach (var item in seq.Children)
        {
            var path = $"{cam.Field("zones")}[{i++}]";
            if (Section.Open(src, item, path, item.Start, "cameras[].zones[]") is not { } z) continue;

            var name = z.Text("name", required: true)?.Trim();
            if (name is not null)
            {
                var at = z.Value("name")!.Start;
                if (names.TryGetValue(name, out var first))
                    src.Error(at, z.Field("name"), $"duplicate zone name '{name}' on this camera (first at line {first.Line})");
                else
                    names[name] = at;
            }

            var polygon = z.Has("polygon") ? ReadPolygon(z) : null;
            if (!z.Has("polygon")) z.Required("polygon");

            // Absent means "every case type the camera looks for"; an explicit [] is ambiguous, so it is an error.
            List<string>? types;
            if (z.Has("case_types"))
            {
                types = z.KnownCaseTypes("case_types", known);
                if (types is not null && detectors is not null)
                {
                    var items = z.TextList("case_types")!;
                    foreach (var (value, node, field) in items)
                        if (!detectors.Contains(value))
                            src.Error(node.Start, field, $"case type '{value}' is not among this camera's detectors ({string.Join(", ", detectors)}), so this zone would never see it");
                }
            }
            else types = detectors;

            var exclude = z.Bool("exclude") is true;
            var schedule = z.Has("schedule") ? ReadSchedule(z) : null;

            zones.Add(new Zone(name ?? "", polygon ?? [], types ?? []) { Exclude = exclude, Schedule = schedule });
        }
        return zones;
    }

    private static List<NormalisedPoint>? ReadPolygon(Section z)
    {
        var src = z.Src;
        var field = z.Field("polygon");
        if (z.List("polygon") is not { } seq) return null;
        var points = new List<NormalisedPoint>();
        var ok = true;
        var i = 0;
        foreach (var item in seq.Children)
        {
            if (ReadImagePoint(src, item, $"{field}[{i++}]") is { } p) points.Add(p);
            else ok = false;
        }
        if (seq.Children.Count < 3)
        {
            src.Error(seq.Start, field, $"needs at least 3 points (got {seq.Children.Count})");
            return null;
        }
        if (!ok) return null;
        if (Math.Abs(ShoelaceArea(points)) < 1e-9)
        {
            // Collinear or repeated points: the zone would contain nothing and silently suppress every case.
            src.Error(seq.Start, field, "has no area (its points are all on one line)");
            return null;
        }
        return points;
    }

    /// <summary>A point [x, y] on the image, each 0..1 as a fraction of its width and height.</summary>
    public static NormalisedPoint? ReadImagePoint(YamlSource src, YamlNode item, string f)
    {
        if (item is not YamlSequenceNode { Children.Count: 2 } xy)
        {
            src.Error(item.Start, f, $"expected a point [x, y] (got {YamlSource.Describe(item)}{(item is YamlSequenceNode s ? $" of {s.Children.Count} values" : "")})");
            return null;
        }
        var x = Scalars.Number(src, xy.Children[0], f);
        var y = Scalars.Number(src, xy.Children[1], f);
        if (x is null || y is null) return null;
        if (x is < 0 or > 1 || y is < 0 or > 1)
        {
            src.Error(item.Start, f, $"x and y must be between 0 and 1, as fractions of the image width and height (got [{Scalars.Fmt(x.Value)}, {Scalars.Fmt(y.Value)}])");
            return null;
        }
        return new NormalisedPoint(x.Value, y.Value);
    }

    /// <summary>
    /// schedule: "06:00-22:00"; a list of such windows and/or {days, hours} entries; or one {days, hours} entry.
    /// The zone is in force while any entry is.
    /// </summary>
    private static ZoneSchedule? ReadSchedule(Section z)
    {
        var src = z.Src;
        var node = z.Value("schedule")!;
        var field = z.Field("schedule");
        var entries = new List<ScheduleEntry>();
        var ok = true;
        switch (node)
        {
            case YamlScalarNode:
                if (ReadWindow(src, node, field) is { } w) entries.Add(new ScheduleEntry(w));
                else ok = false;
                break;
            case YamlMappingNode:
                if (ReadScheduleEntry(src, node, field) is { } e) entries.Add(e);
                else ok = false;
                break;
            case YamlSequenceNode seq:
                if (seq.Children.Count == 0)
                {
                    src.Error(node.Start, field, "must list at least one window like 06:00-22:00 (leave schedule out for a zone that is always in force)");
                    return null;
                }
                var i = 0;
                foreach (var item in seq.Children)
                {
                    var f = $"{field}[{i++}]";
                    var entry = item switch
                    {
                        YamlMappingNode => ReadScheduleEntry(src, item, f),
                        YamlScalarNode => ReadWindow(src, item, f) is { } win ? new ScheduleEntry(win) : null,
                        _ => Invalid(src, item, f),
                    };
                    if (entry is null) ok = false;
                    else entries.Add(entry);
                }
                break;
        }
        return ok ? new ZoneSchedule(entries) : null;

        static ScheduleEntry? Invalid(YamlSource src, YamlNode item, string f)
        {
            src.Error(item.Start, f, $"expected a window like 06:00-22:00 or {{days: [sat, sun], hours: [08:00-20:00]}} (got {YamlSource.Describe(item)})");
            return null;
        }
    }

    /// <summary>{days: [sat, sun], hours: ["08:00-20:00"]}: either may be one item instead of a list; no days = every day, no hours = all day.</summary>
    private static ScheduleEntry? ReadScheduleEntry(YamlSource src, YamlNode node, string field)
    {
        if (Section.Open(src, node, field, node.Start, "cameras[].zones[].schedule") is not { } e) return null;
        if (!e.Has("days") && !e.Has("hours"))
        {
            src.Error(node.Start, field, "give days, hours or both, e.g. {days: [sat, sun], hours: [08:00-20:00]}");
            return null;
        }
        var ok = true;
        var days = new List<DayOfWeek>();
        foreach (var (item, f) in Items(src, e, "days", "day like mon or a range like mon-fri", ref ok))
        {
            if (Scalars.Text(src, item, f) is not { } text) { ok = false; continue; }
            if (ZoneSchedule.TryParseDays(text, out var some, out var error))
                days.AddRange(some.Where(d => !days.Contains(d)));
            else
            {
                src.Error(item.Start, f, error);
                ok = false;
            }
        }
        var hours = new List<DailyWindow>();
        foreach (var (item, f) in Items(src, e, "hours", "window like 06:00-22:00", ref ok))
        {
            if (ReadWindow(src, item, f) is { } w) hours.Add(w);
            else ok = false;
        }
        return ok ? new ScheduleEntry(days, hours) : null;

        // A list, or a single item written without brackets.
        static List<(YamlNode Node, string Field)> Items(YamlSource src, Section e, string key, string what, ref bool ok)
        {
            var items = new List<(YamlNode, string)>();
            if (e.Value(key) is not { } value) return items;
            if (value is YamlSequenceNode seq)
            {
                if (seq.Children.Count == 0)
                {
                    src.Error(seq.Start, e.Field(key), $"must list at least one {what} (leave {key} out for {(key == "days" ? "every day" : "all day")})");
                    ok = false;
                }
                var i = 0;
                foreach (var item in seq.Children) items.Add((item, $"{e.Field(key)}[{i++}]"));
            }
            else items.Add((value, e.Field(key)));
            return items;
        }
    }

    private static DailyWindow? ReadWindow(YamlSource src, YamlNode node, string field)
    {
        if (Scalars.Text(src, node, field) is not { } text) return null;
        if (DailyWindow.TryParse(text, out var w, out var error)) return w;
        src.Error(node.Start, field, error);
        return null;
    }


    private static double ShoelaceArea(List<NormalisedPoint> p)
    {
        double a = 0;
        for (int i = 0, j = p.Count - 1; i < p.Count; j = i++) a += (p[j].X + p[i].X) * (p[j].Y - p[i].Y);
        return a / 2;
    }
}
