using CitySight.Cases;
using CitySight.Delivery.V1;
using Google.Protobuf;
using static CitySight.Tests.CaseSamples;
using DomainCase = CitySight.Domain.Case;

namespace CitySight.Delivery.Tests;

/// <summary>The proto is one representation of a case: every field it carries goes out and comes back, over real wire bytes.</summary>
public sealed class CaseMappingTests
{
    /// <summary>
    /// What the proto's Case has no field for (proto/citysight/v1/case_feed.proto): the crop and the before/after pair
    /// (fetched with GetEvidence by view) and two lifecycle times.
    /// </summary>
    private static readonly string[] NotInProto =
        [nameof(DomainCase.EvidenceCrop), nameof(DomainCase.EvidenceBeforeAfter), nameof(DomainCase.ReportedAt), nameof(DomainCase.AcknowledgedAt)];

    [Fact]
    public void A_fully_populated_case_comes_back_from_the_wire_field_for_field()
    {
        var c = FullCase();
        AssertEveryFieldSet(c);

        var back = RoundTrip(c, CaseFeedKind.StateChanged, includeEvidence: true, out var kind);

        // Times come back in UTC: the same instants.
        AssertSameFields(c, back, sameOffsets: false, NotInProto);
        Assert.Equal(CaseEventKind.StateChanged, kind);
    }

    [Fact]
    public void Without_evidence_the_picture_stays_behind_and_unset_times_stay_unset()
    {
        var c = FullCase() with { RaisedAt = null, ClosedAt = null, State = Domain.CaseState.Reported, StateNote = "" };

        var back = RoundTrip(c, CaseFeedKind.Opened, includeEvidence: false, out var kind);

        AssertSameFields(c with { Evidence = [] }, back, sameOffsets: false, NotInProto);
        Assert.Equal(CaseEventKind.Opened, kind);
    }

    [Fact]
    public void Every_case_state_and_feed_kind_has_its_wire_value()
    {
        // A candidate lives only in the rules, never on the wire (its value is the proto's unspecified).
        foreach (var state in Enum.GetValues<Domain.CaseState>().Where(s => s != Domain.CaseState.Candidate))
        {
            Assert.Equal(state.ToString(), CaseMapping.ToProto(FullCase() with { State = state }).State.ToString());
            Assert.Equal(state, CaseMapping.ToDomain(CaseMapping.ToProto(FullCase() with { State = state })).State);
        }
        foreach (var kind in Enum.GetValues<CaseFeedKind>())
            Assert.Equal(kind.ToString(), CaseMapping.ToEvent(new CaseFeedEvent(1, kind, FullCase()), false).Kind.ToString());
    }

    private static DomainCase RoundTrip(DomainCase c, CaseFeedKind kind, bool includeEvidence, out CaseEventKind wireKind)
    {
        var sent = CaseMapping.ToEvent(new CaseFeedEvent(c.Sequence, kind, c), includeEvidence);
        var received = CaseEvent.Parser.ParseFrom(sent.ToByteArray());
        wireKind = received.Kind;
        return CaseMapping.ToDomain(received.Case, checked((long)received.Sequence));
    }
}
