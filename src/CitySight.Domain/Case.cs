namespace CitySight.Domain;

/// <summary>A kind of case the district's dispatch knows, with the city's code and names (read from config).</summary>
public sealed record CaseType(string Id, string Code, string NameZh, string NameEn, string MajorClass)
{
    /// <summary>Defaults from the field's taxonomy; a city overrides codes and names in configs/citysight.yaml.</summary>
    public static IReadOnlyList<CaseType> Defaults { get; } =
    [
        new("street_stall", "0301", "占道经营", "Street stall / business occupying the road", "街面秩序"),
        new("garbage", "0101", "暴露垃圾", "Exposed garbage / piled materials", "市容环境"),
        new("illegal_parking", "0302", "机动车乱停放", "Illegally parked motor vehicle", "街面秩序"),
        new("billboard", "0201", "违规户外广告", "Illegal outdoor advertising", "宣传广告"),
    ];
}

/// <summary>A confirmed sighting: a mapped detection seen on enough consecutive samples inside a zone.</summary>
public sealed record Hit(
    string CameraId,
    string CaseType,
    string Zone,
    Box Box,
    float Confidence,
    DateTimeOffset FirstSeen,
    DateTimeOffset SeenAt,
    string ClassName);

/// <summary>
/// Where a case stands. A candidate is a hit still being watched (its dwell not yet met) and lives only in the rules;
/// a case is stored as reported, the moment it is committed and offered to dispatch; dispatch then acknowledges it and
/// closes it (handled) or rejects it (false alarm). Closed and rejected are final.
/// </summary>
public enum CaseState
{
    Candidate = 0,
    Reported = 1,
    Acknowledged = 2,
    Closed = 3,
    Rejected = 4,
}

public static class CaseStates
{
    public static bool IsFinal(this CaseState s) => s is CaseState.Closed or CaseState.Rejected;

    /// <summary>Forward only: reported → acknowledged → closed | rejected; a reported case may be closed or rejected directly.</summary>
    public static bool CanMoveTo(this CaseState from, CaseState to) => (from, to) switch
    {
        (CaseState.Candidate, CaseState.Reported) => true,
        (CaseState.Reported, CaseState.Acknowledged or CaseState.Closed or CaseState.Rejected) => true,
        (CaseState.Acknowledged, CaseState.Closed or CaseState.Rejected) => true,
        _ => false,
    };
}

/// <summary>A candidate case as stored and delivered to dispatch.</summary>
public sealed record Case
{
    public required string Id { get; init; }
    /// <summary>Position in the case store's feed; delivery cursors refer to it.</summary>
    public long Sequence { get; init; }
    public required string CaseType { get; init; }
    public required string CameraId { get; init; }
    public required string GroupId { get; init; }
    /// <summary>The city's code and names for the case type, copied from config when the case is raised.</summary>
    public string CaseTypeCode { get; init; } = "";
    public string CaseTypeNameZh { get; init; } = "";
    public string CaseTypeNameEn { get; init; } = "";
    /// <summary>Routing fields from the camera group, so dispatch needs no look-up.</summary>
    public string District { get; init; } = "";
    public string Street { get; init; } = "";
    public string Grid { get; init; } = "";
    public string ResponsibleUnit { get; init; } = "";
    public string Zone { get; init; } = "";
    /// <summary>WGS84 position (degrees) of the object when its camera has a ground mapping, else of the camera.</summary>
    public double Latitude { get; init; }
    public double Longitude { get; init; }
    public DateTimeOffset FirstSeen { get; init; }
    public DateTimeOffset LastSeen { get; init; }
    /// <summary>
    /// Capture time of the frame on which the rules raised the case (the object's dwell met); null for cases stored by
    /// builds that did not keep it. Frame time, like first and last seen, so a replay gives the same value.
    /// </summary>
    public DateTimeOffset? RaisedAt { get; init; }
    public float Confidence { get; init; }
    public Box Box { get; init; }
    public int ImageWidth { get; init; }
    public int ImageHeight { get; init; }
    public string ClassName { get; init; } = "";
    /// <summary>Annotated JPEG of the frame that proves the case.</summary>
    public byte[] Evidence { get; init; } = [];
    /// <summary>JPEG of the object itself (its box with some surroundings) from the same frame; empty when not made.</summary>
    public byte[] EvidenceCrop { get; init; } = [];
    /// <summary>
    /// For a static object (garbage, a billboard): the scene as it was before the object came beside the frame that
    /// raised the case, one JPEG; empty for other cases (written once, with the case).
    /// </summary>
    public byte[] EvidenceBeforeAfter { get; init; } = [];

    public CaseState State { get; init; } = CaseState.Reported;
    /// <summary>When the case was committed and offered to dispatch (wall clock of the store).</summary>
    public DateTimeOffset? ReportedAt { get; init; }
    public DateTimeOffset? AcknowledgedAt { get; init; }
    /// <summary>When it was closed or rejected.</summary>
    public DateTimeOffset? ClosedAt { get; init; }
    /// <summary>Dispatch's words with the last state change (e.g. why it was rejected).</summary>
    public string StateNote { get; init; } = "";
}
