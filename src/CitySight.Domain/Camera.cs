namespace CitySight.Domain;

/// <summary>A point in normalised image coordinates: 0..1 across, 0..1 down.</summary>
public readonly record struct NormalisedPoint(double X, double Y);

/// <summary>
/// A polygon on a camera's image where some case types may be raised (an include zone), or, with
/// <see cref="Exclude"/>, where they may not (a legal parking bay, an approved night market).
/// A camera with include zones raises cases only inside them; exclude zones cut their area out of everything else.
/// </summary>
public sealed record Zone(string Name, IReadOnlyList<NormalisedPoint> Polygon, IReadOnlyList<string> CaseTypes)
{
    /// <summary>When the zone is in force, in the camera's local time; null = always.</summary>
    public ZoneSchedule? Schedule { get; init; }

    /// <summary>
    /// An exclude zone: its case types (all when it lists none) may not be raised inside it while it is in force,
    /// whatever include zone also covers the place.
    /// </summary>
    public bool Exclude { get; init; }

    /// <summary>Whether the zone is in force at capture time <paramref name="at"/>, read in the camera's time zone.</summary>
    public bool InForceAt(DateTimeOffset at, TimeZoneInfo timeZone) => Schedule is null || Schedule.IsActive(at, timeZone);

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

    /// <summary>"Local time" for zone schedules: the camera group's time zone (default Asia/Shanghai).</summary>
    public TimeZoneInfo TimeZone { get; init; } = TimeZones.Default;

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

    /// <summary>
    /// For a local file: the capture time of its first frame (a recording's own start, so zone schedules and case times
    /// are those of the footage). Null: the file's last-write time.
    /// </summary>
    public DateTimeOffset? StartsAt { get; init; }

    public bool Enabled { get; init; } = true;

    /// <summary>Continuous stream or patrol visits (set per camera group). In patrol mode SampleInterval is the revisit interval.</summary>
    public IngestMode Mode { get; init; } = IngestMode.Continuous;

    public DecoderKind Decoder { get; init; } = DecoderKind.Cpu;

    /// <summary>
    /// Where a case of this type may be raised at capture time <paramref name="at"/>: the name of the first include
    /// zone that applies to the type, holds the point and is in schedule ("" when the camera has no include zones:
    /// the whole image counts); null when there is none, or when an exclude zone that applies to the type, holds the
    /// point and is in schedule covers it. Schedules are read in <see cref="TimeZone"/>.
    /// </summary>
    public string? ZoneFor(string caseType, NormalisedPoint point, DateTimeOffset at) =>
        Find(caseType, point, z => z.InForceAt(at, TimeZone));

    /// <summary>As <see cref="ZoneFor(string, NormalisedPoint, DateTimeOffset)"/> with every zone taken as in force (schedules ignored).</summary>
    public string? ZoneFor(string caseType, NormalisedPoint point) => Find(caseType, point, static _ => true);

    private string? Find(string caseType, NormalisedPoint point, Func<Zone, bool> inForce)
    {
        string? found = null;
        var anyInclude = false;
        foreach (var z in Zones)
        {
            if (z.Exclude)
            {
                if (z.AppliesTo(caseType) && z.Contains(point) && inForce(z)) return null;
                continue;
            }
            anyInclude = true;
            if (found is null && z.AppliesTo(caseType) && z.Contains(point) && inForce(z)) found = z.Name;
        }
        return anyInclude ? found : "";
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
    /// <summary>Local time of the group's cameras (their zone schedules).</summary>
    public TimeZoneInfo TimeZone { get; init; } = TimeZones.Default;
    public IReadOnlyList<Camera> Cameras { get; init; } = [];
}
