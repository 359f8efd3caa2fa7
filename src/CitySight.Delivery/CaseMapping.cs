using CitySight.Delivery.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using DomainCase = CitySight.Domain.Case;
using ProtoCase = CitySight.Delivery.V1.Case;
using ProtoCaseType = CitySight.Delivery.V1.CaseType;

namespace CitySight.Delivery;

/// <summary>Domain <see cref="DomainCase"/> ⇄ wire <see cref="ProtoCase"/>.</summary>
public static class CaseMapping
{
    /// <summary>All CitySight evidence is an annotated JPEG.</summary>
    public const string EvidenceContentType = "image/jpeg";

    public static ProtoCase ToProto(DomainCase c, bool includeEvidence = true)
    {
        ArgumentNullException.ThrowIfNull(c);
        // Protobuf strings reject null; the Domain's defaults are "" but a caller may still pass null through `with`.
        return new ProtoCase
        {
            Id = c.Id ?? "",
            CaseType = new ProtoCaseType
            {
                Id = c.CaseType ?? "",
                Code = c.CaseTypeCode ?? "",
                NameZh = c.CaseTypeNameZh ?? "",
                NameEn = c.CaseTypeNameEn ?? "",
            },
            CameraId = c.CameraId ?? "",
            GroupId = c.GroupId ?? "",
            District = c.District ?? "",
            Street = c.Street ?? "",
            Grid = c.Grid ?? "",
            ResponsibleUnit = c.ResponsibleUnit ?? "",
            Zone = c.Zone ?? "",
            Latitude = c.Latitude,
            Longitude = c.Longitude,
            FirstSeen = Timestamp.FromDateTimeOffset(c.FirstSeen),
            LastSeen = Timestamp.FromDateTimeOffset(c.LastSeen),
            Confidence = c.Confidence,
            Box = new V1.Box
            {
                X1 = c.Box.X1, Y1 = c.Box.Y1, X2 = c.Box.X2, Y2 = c.Box.Y2,
                ImageWidth = c.ImageWidth, ImageHeight = c.ImageHeight,
            },
            ClassName = c.ClassName ?? "",
            // The store hands out a fresh array per read and never touches it again, so wrapping without a copy is safe.
            EvidenceJpeg = includeEvidence && c.Evidence is { Length: > 0 }
                ? UnsafeByteOperations.UnsafeWrap(c.Evidence)
                : ByteString.Empty,
            EvidenceContentType = EvidenceContentType,
            State = (V1.CaseState)(int)c.State,
            StateNote = c.StateNote ?? "",
            RaisedAt = c.RaisedAt is { } raised ? Timestamp.FromDateTimeOffset(raised) : null,
            ClosedAt = c.ClosedAt is { } closed ? Timestamp.FromDateTimeOffset(closed) : null,
        };
    }

    /// <summary>The wire case back as a Domain case (times come back in UTC); for consumers and the CLI.</summary>
    public static DomainCase ToDomain(ProtoCase p, long sequence = 0)
    {
        ArgumentNullException.ThrowIfNull(p);
        return new DomainCase
        {
            Id = p.Id,
            Sequence = sequence,
            CaseType = p.CaseType?.Id ?? "",
            CaseTypeCode = p.CaseType?.Code ?? "",
            CaseTypeNameZh = p.CaseType?.NameZh ?? "",
            CaseTypeNameEn = p.CaseType?.NameEn ?? "",
            CameraId = p.CameraId,
            GroupId = p.GroupId,
            District = p.District,
            Street = p.Street,
            Grid = p.Grid,
            ResponsibleUnit = p.ResponsibleUnit,
            Zone = p.Zone,
            Latitude = p.Latitude,
            Longitude = p.Longitude,
            FirstSeen = p.FirstSeen?.ToDateTimeOffset() ?? default,
            LastSeen = p.LastSeen?.ToDateTimeOffset() ?? default,
            Confidence = p.Confidence,
            Box = p.Box is { } b ? new Domain.Box(b.X1, b.Y1, b.X2, b.Y2) : default,
            ImageWidth = p.Box?.ImageWidth ?? 0,
            ImageHeight = p.Box?.ImageHeight ?? 0,
            ClassName = p.ClassName,
            Evidence = p.EvidenceJpeg.ToByteArray(),
            State = (Domain.CaseState)(int)p.State,
            StateNote = p.StateNote,
            RaisedAt = p.RaisedAt?.ToDateTimeOffset(),
            ClosedAt = p.ClosedAt?.ToDateTimeOffset(),
        };
    }

    /// <summary>The wire event for a store feed event.</summary>
    public static CaseEvent ToEvent(Cases.CaseFeedEvent e, bool includeEvidence) => new()
    {
        Sequence = checked((ulong)e.Sequence),
        Kind = e.Kind switch
        {
            Cases.CaseFeedKind.StateChanged => CaseEventKind.StateChanged,
            Cases.CaseFeedKind.Updated => CaseEventKind.Updated,
            _ => CaseEventKind.Opened,
        },
        Case = ToProto(e.Case, includeEvidence),
    };

    /// <summary>The feed event for a newly opened case.</summary>
    public static CaseEvent ToOpenedEvent(DomainCase c, bool includeEvidence) => new()
    {
        Sequence = checked((ulong)c.Sequence),
        Kind = CaseEventKind.Opened,
        Case = ToProto(c, includeEvidence),
    };
}
