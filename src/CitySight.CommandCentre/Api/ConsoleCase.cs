using CitySight.Domain;

namespace CitySight.CommandCentre.Api;

/// <summary>A case as the console's API gives it: what dispatch gets over gRPC, without the pictures (fetched one by one).</summary>
public sealed record ConsoleCase
{
    public required string Id { get; init; }
    public long Sequence { get; init; }
    public required string Type { get; init; }
    public string TypeCode { get; init; } = "";
    public string TypeNameZh { get; init; } = "";
    public string TypeNameEn { get; init; } = "";
    public required string CameraId { get; init; }
    public required string GroupId { get; init; }
    public string District { get; init; } = "";
    public string Street { get; init; } = "";
    public string Grid { get; init; } = "";
    public string ResponsibleUnit { get; init; } = "";
    public string Zone { get; init; } = "";
    /// <summary>reported, acknowledged, closed or rejected.</summary>
    public required string State { get; init; }
    public double Latitude { get; init; }
    public double Longitude { get; init; }
    public DateTimeOffset FirstSeen { get; init; }
    public DateTimeOffset LastSeen { get; init; }
    public DateTimeOffset? RaisedAt { get; init; }
    public DateTimeOffset? ReportedAt { get; init; }
    public DateTimeOffset? AcknowledgedAt { get; init; }
    public DateTimeOffset? ClosedAt { get; init; }
    public float Confidence { get; init; }
    public string ClassName { get; init; } = "";
    /// <summary>The words given with the last state change (why it was rejected).</summary>
    public string Note { get; init; } = "";

    private static string StateName(CaseState state) => state.ToString().ToLowerInvariant();

    public static ConsoleCase Of(Case c) => new()
    {
        Id = c.Id,
        Sequence = c.Sequence,
        Type = c.CaseType,
        TypeCode = c.CaseTypeCode,
        TypeNameZh = c.CaseTypeNameZh,
        TypeNameEn = c.CaseTypeNameEn,
        CameraId = c.CameraId,
        GroupId = c.GroupId,
        District = c.District,
        Street = c.Street,
        Grid = c.Grid,
        ResponsibleUnit = c.ResponsibleUnit,
        Zone = c.Zone,
        State = StateName(c.State),
        Latitude = c.Latitude,
        Longitude = c.Longitude,
        FirstSeen = c.FirstSeen,
        LastSeen = c.LastSeen,
        RaisedAt = c.RaisedAt,
        ReportedAt = c.ReportedAt,
        AcknowledgedAt = c.AcknowledgedAt,
        ClosedAt = c.ClosedAt,
        Confidence = c.Confidence,
        ClassName = c.ClassName,
        Note = c.StateNote,
    };
}
