namespace CitySight.Domain;

/// <summary>A point in normalised image coordinates: 0..1 across, 0..1 down.</summary>
public readonly record struct NormalisedPoint(double X, double Y);

/// <summary>
/// A polygon on a camera's image where some case types may be raised.
/// A camera with zones raises cases only inside them.
/// </summary>
public sealed record Zone(string Name, IReadOnlyList<NormalisedPoint> Polygon, IReadOnlyList<string> CaseTypes)
{
    /// <summary>Ray-casting point-in-polygon on normalised coordinates.</summary>
    public bool Contains(NormalisedPoint p)
    {
        var inside = false;
        for (int i = 0, j = Polygon.Count - 1; i < Polygon.Count; j = i++)
        {
            var a = Polygon[i];
            var b = Polygon[j];
            if ((a.Y > p.Y) != (b.Y > p.Y) && p.X < (b.X - a.X) * (p.Y - a.Y) / (b.Y - a.Y) + a.X)
                inside = !inside;
        }
        return inside;
    }

    public bool AppliesTo(string caseType) => CaseTypes.Count == 0 || CaseTypes.Contains(caseType);
}

/// <summary>One surveyed point of a camera's ground mapping: where on its image (normalised) a spot of known WGS84 position is.</summary>
public readonly record struct GroundPoint(NormalisedPoint Image, double Latitude, double Longitude);

/// <summary>How a camera's stream is read.</summary>
public enum IngestMode
{
    /// <summary>The stream stays open; keyframes (or frames at the sampling rate) are decoded.</summary>
    Continuous,
    /// <summary>轮巡: visited in turn: connect, take one fresh frame, disconnect. For cameras beyond the concurrent-stream budget.</summary>
    Patrol,
}

/// <summary>Where frames are decoded; anything but Cpu needs the matching hardware and ffmpeg build.</summary>
public enum DecoderKind { Cpu, Cuda, Vaapi, Qsv }

/// <summary>One street camera as configured.</summary>
public sealed record Camera
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string GroupId { get; init; }

    /// <summary>rtsp://… or a local video file path. May hold a password: never log it, use <see cref="Secrets.RedactUrl"/>.</summary>
    public required string Url { get; init; }

    public double Latitude { get; init; }
    public double Longitude { get; init; }

    /// <summary>
    /// 4+ image points with their latitude/longitude (a homography from the image to the ground), so a hit's place can
    /// be compared across cameras; empty = only the camera's own position is known.
    /// </summary>
    public IReadOnlyList<GroundPoint> Ground { get; init; } = [];

    /// <summary>How often a frame is taken for detection.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Case types this camera looks for (e.g. illegal_parking).</summary>
    public IReadOnlyList<string> Detectors { get; init; } = [];

    public IReadOnlyList<Zone> Zones { get; init; } = [];

    /// <summary>For a local file: play at its own frame rate (true) or as fast as it decodes (false).</summary>
    public bool RealTime { get; init; } = true;

    /// <summary>For a local file: start again at the end.</summary>
    public bool Loop { get; init; }

    public bool Enabled { get; init; } = true;

    /// <summary>Continuous stream or patrol visits (set per camera group). In patrol mode SampleInterval is the revisit interval.</summary>
    public IngestMode Mode { get; init; } = IngestMode.Continuous;

    public DecoderKind Decoder { get; init; } = DecoderKind.Cpu;

    /// <summary>Where a case of this type may be raised: inside a zone that applies to it, or anywhere when the camera has no zones.</summary>
    public string? ZoneFor(string caseType, NormalisedPoint point)
    {
        if (Zones.Count == 0) return "";
        foreach (var z in Zones)
            if (z.AppliesTo(caseType) && z.Contains(point)) return z.Name;
        return null;
    }
}

/// <summary>Cameras that share an owner, a street and defaults; dispatch routes by these fields.</summary>
public sealed record CameraGroup
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public string? District { get; init; }
    public string? Street { get; init; }
    public string? Grid { get; init; }
    public string? ResponsibleUnit { get; init; }
    public IReadOnlyList<Camera> Cameras { get; init; } = [];
}
