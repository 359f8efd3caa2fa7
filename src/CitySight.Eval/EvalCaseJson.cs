using System.Text.Json;
using System.Text.Json.Serialization;
using CitySight.Domain;

namespace CitySight.Eval;

/// <summary>
/// The eval JSON of a case (what <c>eval --json</c> writes for every matched and unmatched case): the one place that
/// says which fields of a <see cref="Case"/> and of its scoring go into it, under which names, and how they are read back.
/// </summary>
public static class EvalCaseJson
{
    /// <summary>The property names, in the order they are written.</summary>
    public static readonly IReadOnlyList<string> Fields =
        ["id", "type", "camera", "raised_at_s", "first_seen_s", "box", "box_normalised", "confidence", "class_name", "event", "duplicate"];

    /// <summary>
    /// A case as scored. <paramref name="raised"/>: video time it was raised at; <paramref name="anchor"/>: when its
    /// camera's video started (first seen is given in video time too); <paramref name="boxNormalised"/>: its box in
    /// image units; <paramref name="event"/>: the expected event it matched, if any.
    /// </summary>
    public static ScoredCase Of(Case c, TimeSpan raised, DateTimeOffset anchor, double[] boxNormalised, int? @event, bool duplicate) =>
        new(c.Id, c.CaseType, c.CameraId, Math.Round(raised.TotalSeconds, 3), Math.Round((c.FirstSeen - anchor).TotalSeconds, 3),
            [c.Box.X1, c.Box.Y1, c.Box.X2, c.Box.Y2], boxNormalised.Select(v => Math.Round(v, 4)).ToArray(), c.Confidence, c.ClassName,
            @event, duplicate);

    public static void Write(Utf8JsonWriter w, ScoredCase c)
    {
        w.WriteStartObject();
        w.WriteString("id", c.Id);
        w.WriteString("type", c.Type);
        w.WriteString("camera", c.Camera);
        w.WriteNumber("raised_at_s", c.RaisedAtS);
        w.WriteNumber("first_seen_s", c.FirstSeenS);
        WriteArray(w, "box", c.Box);
        WriteArray(w, "box_normalised", c.BoxNormalised);
        w.WriteNumber("confidence", c.Confidence);
        w.WriteString("class_name", c.ClassName);
        if (c.Event is { } e) w.WriteNumber("event", e);
        else w.WriteNull("event");
        w.WriteBoolean("duplicate", c.Duplicate);
        w.WriteEndObject();
    }

    /// <exception cref="KeyNotFoundException">A field is missing.</exception>
    public static ScoredCase Read(JsonElement e) => new(
        e.GetProperty("id").GetString()!,
        e.GetProperty("type").GetString()!,
        e.GetProperty("camera").GetString()!,
        e.GetProperty("raised_at_s").GetDouble(),
        e.GetProperty("first_seen_s").GetDouble(),
        e.GetProperty("box").EnumerateArray().Select(v => v.GetDouble()).ToArray(),
        e.GetProperty("box_normalised").EnumerateArray().Select(v => v.GetDouble()).ToArray(),
        e.GetProperty("confidence").GetSingle(),
        e.GetProperty("class_name").GetString()!,
        e.GetProperty("event").ValueKind == JsonValueKind.Null ? null : e.GetProperty("event").GetInt32(),
        e.GetProperty("duplicate").GetBoolean());

    private static void WriteArray(Utf8JsonWriter w, string name, double[] values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    /// <summary>Makes <see cref="Report.Json"/> write and read every <see cref="ScoredCase"/> through this mapping.</summary>
    public sealed class Converter : JsonConverter<ScoredCase>
    {
        public override ScoredCase Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            using var doc = JsonDocument.ParseValue(ref reader);
            return EvalCaseJson.Read(doc.RootElement);
        }

        public override void Write(Utf8JsonWriter writer, ScoredCase value, JsonSerializerOptions options) => EvalCaseJson.Write(writer, value);
    }
}
