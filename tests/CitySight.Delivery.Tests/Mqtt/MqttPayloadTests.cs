using System.Text;
using System.Text.Json;
using CitySight.Cases;
using CitySight.Delivery.Mqtt;
using static CitySight.Tests.CaseSamples;
using DomainCase = CitySight.Domain.Case;

namespace CitySight.Delivery.Tests.Mqtt;

/// <summary>The MQTT JSON is one representation of a case: every field it carries goes out and comes back.</summary>
public sealed class MqttPayloadTests
{
    /// <summary>What the MQTT body leaves out: pictures (fetched over gRPC), the lifecycle times and dispatch's note.</summary>
    private static readonly string[] NotInMqtt =
    [
        nameof(DomainCase.Evidence), nameof(DomainCase.EvidenceCrop), nameof(DomainCase.EvidenceBeforeAfter), nameof(DomainCase.ReportedAt),
        nameof(DomainCase.AcknowledgedAt), nameof(DomainCase.ClosedAt), nameof(DomainCase.StateNote),
    ];

    [Theory]
    [InlineData(CaseFeedKind.Opened, "opened")]
    [InlineData(CaseFeedKind.Updated, "updated")]
    [InlineData(CaseFeedKind.StateChanged, "state_changed")]
    public void A_fully_populated_case_comes_back_from_its_json_field_for_field(CaseFeedKind kind, string name)
    {
        var c = FullCase();
        AssertEveryFieldSet(c);

        var json = MqttPayloads.Case(c, kind, sequence: 9001);
        var (readKind, sequence, back) = MqttPayloads.ReadCase(json);

        // Frame times go out with their offset, to the millisecond.
        AssertSameFields(c with { Sequence = 9001 }, back, sameOffsets: true, NotInMqtt);
        Assert.Equal(kind, readKind);
        Assert.Equal(9001, sequence);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(name, doc.RootElement.GetProperty("event").GetString());
    }

    [Fact]
    public void Chinese_names_are_sent_as_they_are_and_a_case_never_raised_says_null()
    {
        var c = FullCase() with { RaisedAt = null };

        var json = MqttPayloads.Case(c);

        var text = Encoding.UTF8.GetString(json);
        Assert.Contains("\"name_zh\":\"占道经营\"", text);
        Assert.Contains("\"raised_at\":null", text);
        var (kind, sequence, back) = MqttPayloads.ReadCase(json);
        Assert.Equal((CaseFeedKind.Opened, c.Sequence), (kind, sequence));
        AssertSameFields(c, back, sameOffsets: true, NotInMqtt);
    }

    [Fact]
    public void A_body_that_is_not_a_case_event_is_refused()
    {
        Assert.Throws<JsonException>(() => MqttPayloads.ReadCase("{\"event\":\"opened\"}"u8));
        Assert.ThrowsAny<JsonException>(() => MqttPayloads.ReadCase("not json"u8));
    }
}
