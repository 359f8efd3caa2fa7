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
    /// <summary>WGS84 position of the camera (degrees).</summary>
    public double Latitude { get; init; }
    public double Longitude { get; init; }
    public DateTimeOffset FirstSeen { get; init; }
    public DateTimeOffset LastSeen { get; init; }
    public float Confidence { get; init; }
    public Box Box { get; init; }
    public int ImageWidth { get; init; }
    public int ImageHeight { get; init; }
    public string ClassName { get; init; } = "";
    /// <summary>Annotated JPEG of the frame that proves the case.</summary>
    public byte[] Evidence { get; init; } = [];
}
