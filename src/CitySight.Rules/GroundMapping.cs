using CitySight.Domain;
using OpenCvSharp;

namespace CitySight.Rules;

/// <summary>A WGS84 position in degrees (the API's datum; see DOMAIN.md on GCJ-02 / CGCS2000).</summary>
public readonly record struct GeoPoint(double Latitude, double Longitude);

/// <summary>
/// Where on the ground a point of one camera's image is, so hits can be compared across cameras by place.
/// <para>
/// With 4 or more <see cref="Camera.Ground"/> points: a homography (fitted by OpenCV's <c>Cv2.FindHomography</c>,
/// least squares over all points, exact for 4) from normalised image coordinates to a local metric plane: east/north
/// metres around the surveyed points' centroid (an equirectangular tangent plane; over a street's extent, a few hundred
/// metres, its distortion is below a millimetre per 100 m; a homography fitted on raw degrees would be badly conditioned).
/// The ground is assumed flat over the surveyed area.
/// </para>
/// <para>
/// <see cref="ToGround"/> answers <c>null</c> for image points above the horizon (homogeneous w ≤ 0: the ray never
/// meets the ground in front of the camera) and for points that land farther than <see cref="MaxRangeMetres"/> from the
/// surveyed centroid (extrapolating a homography towards the horizon turns pixel noise into tens of metres).
/// The caller then falls back to <see cref="Position"/> (see <see cref="Sighting.Of"/>).
/// </para>
/// <para>
/// Without ground points (or with a survey that cannot be used, see <see cref="Problem"/>): <see cref="IsMapped"/> is
/// false and every image point is at the camera's own position. Dedup then compares camera positions, so the place error
/// is as large as what the camera sees (tens of metres along a street, 100 m+ for a long view), and two cameras on one
/// pole see "the same place" whatever they look at: across cameras only type and time tell cases apart.
/// </para>
/// Immutable and thread-safe once built.
/// </summary>
public sealed class GroundMapping
{
    /// <summary>Mean Earth radius (IUGG), metres. A sphere: within 0.5% of the ellipsoid, plenty for a 15 m dedup radius.</summary>
    public const double EarthRadiusMetres = 6_371_008.8;

    /// <summary>Default range: this many times the surveyed points' largest distance from their centroid.</summary>
    public const double DefaultRangeFactor = 4;

    private const double MetresPerDegree = EarthRadiusMetres * Math.PI / 180;

    private readonly double[] _h = new double[9];   // image (x, y, 1) → local (east, north, w), row-major
    private GeoPoint _origin;        // set once, in the constructor
    private double _cosOrigin = 1;

    /// <param name="camera">The camera, its <see cref="Camera.Ground"/> and position.</param>
    /// <param name="maxRangeMetres">
    /// How far from the surveyed centroid a mapped point may land before it is treated as unknown;
    /// null = <see cref="DefaultRangeFactor"/> × the survey's radius.
    /// </param>
    public GroundMapping(Camera camera, double? maxRangeMetres = null)
    {
        CameraId = camera.Id;
        var ground = camera.Ground;
        var hasOwn = !(camera.Latitude == 0 && camera.Longitude == 0);

        if (ground.Count is > 0 and < 4)
            Problem = $"a ground mapping needs 4 or more points, this camera has {ground.Count}";
        else if (ground.Count >= 4)
            Fit(ground, maxRangeMetres);

        if (hasOwn) Position = new GeoPoint(camera.Latitude, camera.Longitude);
        else if (IsMapped) Position = _origin;   // no position configured: the middle of what it surveys
        HasPosition = hasOwn || IsMapped;
    }

    public string CameraId { get; }

    /// <summary>True when image points map onto the ground through a usable homography.</summary>
    public bool IsMapped { get; private set; }

    /// <summary>Why a camera with ground points is not mapped (too few, collinear, straddling the horizon); null otherwise.</summary>
    public string? Problem { get; private set; }

    /// <summary>The camera's configured position; or, when it has none (0, 0) but is mapped, the surveyed centroid.</summary>
    public GeoPoint Position { get; }

    /// <summary>False when the camera has neither a position nor a ground mapping: its hits have no place at all.</summary>
    public bool HasPosition { get; }

    /// <summary>Root-mean-square distance, metres, between the surveyed points and where the fit maps their image points (0 for exactly 4).</summary>
    public double RmsErrorMetres { get; private set; }

    /// <summary>Mapped points farther than this from the surveyed centroid are unknown (<see cref="ToGround"/> = null).</summary>
    public double MaxRangeMetres { get; private set; }

    /// <summary>
    /// Where a point of the image (normalised, e.g. <see cref="Box.BottomCentre"/>) is on the ground.
    /// Mapped: null above the horizon or beyond <see cref="MaxRangeMetres"/>. Not mapped: the camera's position
    /// (null when it has none).
    /// </summary>
    public GeoPoint? ToGround(NormalisedPoint p)
    {
        if (!IsMapped) return HasPosition ? Position : null;
        var h = _h;
        var w = h[6] * p.X + h[7] * p.Y + h[8];
        if (!(w > 0)) return null;   // on or behind the horizon (also NaN)
        var east = (h[0] * p.X + h[1] * p.Y + h[2]) / w;
        var north = (h[3] * p.X + h[4] * p.Y + h[5]) / w;
        if (!double.IsFinite(east) || !double.IsFinite(north) || Math.Sqrt(east * east + north * north) > MaxRangeMetres)
            return null;
        return FromLocal(east, north);
    }

    /// <summary>Great-circle distance in metres (haversine on a sphere of <see cref="EarthRadiusMetres"/>).</summary>
    public static double DistanceMetres(GeoPoint a, GeoPoint b)
    {
        static double Rad(double deg) => deg * Math.PI / 180;
        var dLat = Rad(b.Latitude - a.Latitude);
        var dLon = Rad(b.Longitude - a.Longitude);
        var s = Math.Sin(dLat / 2) * Math.Sin(dLat / 2)
              + Math.Cos(Rad(a.Latitude)) * Math.Cos(Rad(b.Latitude)) * Math.Sin(dLon / 2) * Math.Sin(dLon / 2);
        return 2 * EarthRadiusMetres * Math.Asin(Math.Sqrt(Math.Min(1, s)));
    }

    private void Fit(IReadOnlyList<GroundPoint> ground, double? maxRangeMetres)
    {
        // Centroid; longitudes as offsets from the first point so a survey across ±180° averages correctly.
        double lat0 = 0, dLon0 = 0, lonRef = ground[0].Longitude;
        foreach (var g in ground) { lat0 += g.Latitude; dLon0 += WrapDegrees(g.Longitude - lonRef); }
        lat0 /= ground.Count;
        _origin = new GeoPoint(lat0, WrapDegrees(lonRef + dLon0 / ground.Count));
        _cosOrigin = Math.Cos(lat0 * Math.PI / 180);

        var image = new Point2d[ground.Count];
        var local = new Point2d[ground.Count];
        var radius = 0.0;
        for (var i = 0; i < ground.Count; i++)
        {
            image[i] = new Point2d(ground[i].Image.X, ground[i].Image.Y);
            var (e, n) = ToLocal(ground[i].Latitude, ground[i].Longitude);
            local[i] = new Point2d(e, n);
            radius = Math.Max(radius, Math.Sqrt(e * e + n * n));
        }

        using (var m = Cv2.FindHomography(image, local, HomographyMethods.None))
        {
            if (m.Empty() || m.Rows != 3 || m.Cols != 3)
            {
                Problem = "the ground points give no homography (are 3 of them on one line, or two the same?)";
                return;
            }
            for (var r = 0; r < 3; r++)
                for (var c = 0; c < 3; c++)
                    _h[r * 3 + c] = m.Get<double>(r, c);
        }

        if (!_h.All(double.IsFinite) || Math.Abs(Determinant(_h)) < 1e-12 * Math.Pow(_h.Sum(Math.Abs), 3))
        {
            Problem = "the ground points give a singular homography (are 3 of them on one line?)";
            return;
        }

        // A homography is defined up to scale, sign included: make w positive on the surveyed (visible) side of the horizon.
        double meanX = image.Average(p => p.X), meanY = image.Average(p => p.Y);
        if (_h[6] * meanX + _h[7] * meanY + _h[8] < 0)
            for (var i = 0; i < 9; i++) _h[i] = -_h[i];

        var sumSq = 0.0;
        for (var i = 0; i < image.Length; i++)
        {
            var w = _h[6] * image[i].X + _h[7] * image[i].Y + _h[8];
            if (!(w > 0))
            {
                Problem = "the ground points lie on both sides of the fitted horizon: check their image positions";
                return;
            }
            var de = (_h[0] * image[i].X + _h[1] * image[i].Y + _h[2]) / w - local[i].X;
            var dn = (_h[3] * image[i].X + _h[4] * image[i].Y + _h[5]) / w - local[i].Y;
            sumSq += de * de + dn * dn;
        }

        RmsErrorMetres = Math.Sqrt(sumSq / image.Length);
        MaxRangeMetres = maxRangeMetres ?? DefaultRangeFactor * radius;
        IsMapped = true;
    }

    private (double East, double North) ToLocal(double latitude, double longitude)
    {
        var dLon = WrapDegrees(longitude - _origin.Longitude);
        return (dLon * MetresPerDegree * _cosOrigin, (latitude - _origin.Latitude) * MetresPerDegree);
    }

    private GeoPoint FromLocal(double east, double north)
    {
        var lon = WrapDegrees(_origin.Longitude + east / (MetresPerDegree * _cosOrigin));
        return new GeoPoint(_origin.Latitude + north / MetresPerDegree, lon);
    }

    private static double WrapDegrees(double d) => d > 180 ? d - 360 : d < -180 ? d + 360 : d;

    private static double Determinant(double[] m) =>
        m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}
