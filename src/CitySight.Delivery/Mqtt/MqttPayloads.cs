using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using CitySight.Domain;

namespace CitySight.Delivery.Mqtt;

/// <summary>One camera's state as published on its retained status topic.</summary>
public sealed record MqttCameraStatus(string CameraId, string State, string? Reason, DateTimeOffset Since);

/// <summary>The JSON bodies published on the MQTT topics (snake_case, UTF-8, Chinese names unescaped).</summary>
public static class MqttPayloads
{
    /// <summary>Where dispatch fetches the pictures: they are never sent over MQTT.</summary>
    public const string EvidenceCall = "citysight.v1.CaseFeed/GetEvidence";

    private static readonly JsonWriterOptions Writer = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// A case event: <c>event</c> is opened, updated or state_changed; <c>sequence</c> is the event's place in the feed
    /// (a consumer's cursor); <c>id</c> is the case's stable id (the idempotency key).
    /// </summary>
    public static byte[] Case(Case c, Cases.CaseFeedKind kind = Cases.CaseFeedKind.Opened, long? sequence = null)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, Writer))
        {
            w.WriteStartObject();
            w.WriteString("event", kind switch
            {
                Cases.CaseFeedKind.Updated => "updated",
                Cases.CaseFeedKind.StateChanged => "state_changed",
                _ => "opened",
            });
            w.WriteString("id", c.Id);
            w.WriteNumber("sequence", sequence ?? c.Sequence);
            w.WriteStartObject("type");
            w.WriteString("id", c.CaseType);
            w.WriteString("code", c.CaseTypeCode);
            w.WriteString("name_zh", c.CaseTypeNameZh);
            w.WriteString("name_en", c.CaseTypeNameEn);
            w.WriteEndObject();
            w.WriteString("camera", c.CameraId);
            w.WriteString("group", c.GroupId);
            w.WriteString("district", c.District);
            w.WriteString("street", c.Street);
            w.WriteString("grid", c.Grid);
            w.WriteString("responsible_unit", c.ResponsibleUnit);
            w.WriteString("zone", c.Zone);
            w.WriteNumber("lat", c.Latitude);
            w.WriteNumber("lon", c.Longitude);
            w.WriteString("first_seen", Iso(c.FirstSeen));
            w.WriteString("last_seen", Iso(c.LastSeen));
            if (c.RaisedAt is { } raised) w.WriteString("raised_at", Iso(raised));
            else w.WriteNull("raised_at");
            w.WriteNumber("confidence", Math.Round((double)c.Confidence, 4));
            w.WriteStartObject("box");
            w.WriteNumber("x1", c.Box.X1);
            w.WriteNumber("y1", c.Box.Y1);
            w.WriteNumber("x2", c.Box.X2);
            w.WriteNumber("y2", c.Box.Y2);
            w.WriteEndObject();
            w.WriteStartObject("image");
            w.WriteNumber("width", c.ImageWidth);
            w.WriteNumber("height", c.ImageHeight);
            w.WriteEndObject();
            w.WriteString("class_name", c.ClassName);
            w.WriteString("state", c.State.ToString().ToLowerInvariant());
            w.WriteStartObject("evidence");
            w.WriteString("grpc", EvidenceCall);
            w.WriteString("case_id", c.Id);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    /// <summary>
    /// A case event body read back: what <see cref="Case(Domain.Case, Cases.CaseFeedKind, long?)"/> wrote, for consumers
    /// and tests. The payload carries no pictures, lifecycle times or note: those come back unset.
    /// </summary>
    /// <exception cref="JsonException">Not a case event (malformed, or a field missing or of the wrong kind).</exception>
    public static (Cases.CaseFeedKind Kind, long Sequence, Case Case) ReadCase(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var doc = JsonDocument.ParseValue(ref reader);
        try
        {
            var e = doc.RootElement;
            var kind = e.GetProperty("event").GetString() switch
            {
                "opened" => Cases.CaseFeedKind.Opened,
                "updated" => Cases.CaseFeedKind.Updated,
                "state_changed" => Cases.CaseFeedKind.StateChanged,
                var other => throw new JsonException($"unknown case event '{other}'"),
            };
            var sequence = e.GetProperty("sequence").GetInt64();
            var type = e.GetProperty("type");
            var box = e.GetProperty("box");
            var image = e.GetProperty("image");
            var c = new Case
            {
                Id = Text(e, "id"),
                Sequence = sequence,
                CaseType = Text(type, "id"),
                CaseTypeCode = Text(type, "code"),
                CaseTypeNameZh = Text(type, "name_zh"),
                CaseTypeNameEn = Text(type, "name_en"),
                CameraId = Text(e, "camera"),
                GroupId = Text(e, "group"),
                District = Text(e, "district"),
                Street = Text(e, "street"),
                Grid = Text(e, "grid"),
                ResponsibleUnit = Text(e, "responsible_unit"),
                Zone = Text(e, "zone"),
                Latitude = e.GetProperty("lat").GetDouble(),
                Longitude = e.GetProperty("lon").GetDouble(),
                FirstSeen = FromIso(Text(e, "first_seen")),
                LastSeen = FromIso(Text(e, "last_seen")),
                RaisedAt = e.GetProperty("raised_at").ValueKind == JsonValueKind.Null ? null : FromIso(Text(e, "raised_at")),
                Confidence = e.GetProperty("confidence").GetSingle(),
                Box = new Box(box.GetProperty("x1").GetSingle(), box.GetProperty("y1").GetSingle(),
                    box.GetProperty("x2").GetSingle(), box.GetProperty("y2").GetSingle()),
                ImageWidth = image.GetProperty("width").GetInt32(),
                ImageHeight = image.GetProperty("height").GetInt32(),
                ClassName = Text(e, "class_name"),
                State = Enum.Parse<CaseState>(Text(e, "state"), ignoreCase: true),
            };
            return (kind, sequence, c);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new JsonException("not a CitySight case event: " + ex.Message, ex);
        }

        static string Text(JsonElement e, string name) =>
            e.GetProperty(name).GetString() ?? throw new JsonException($"'{name}' is null");
    }

    public static byte[] CameraStatus(MqttCameraStatus s, DateTimeOffset now)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, Writer))
        {
            w.WriteStartObject();
            w.WriteString("camera", s.CameraId);
            w.WriteString("state", s.State);
            if (s.Reason is { } r) w.WriteString("reason", r);
            else w.WriteNull("reason");
            w.WriteString("since", Iso(s.Since));
            w.WriteString("time", Iso(now));
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    /// <summary>Milliseconds and the offset the time was taken with: how every time goes out on MQTT.</summary>
    private const string IsoFormat = "yyyy-MM-dd'T'HH:mm:ss.fffzzz";

    private static string Iso(DateTimeOffset t) => t.ToString(IsoFormat, CultureInfo.InvariantCulture);

    private static DateTimeOffset FromIso(string s) => DateTimeOffset.ParseExact(s, IsoFormat, CultureInfo.InvariantCulture);
}
