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

    private static string Iso(DateTimeOffset t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
}
