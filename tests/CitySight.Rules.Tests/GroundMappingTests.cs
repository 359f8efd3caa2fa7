using CitySight.Domain;

namespace CitySight.Rules.Tests;

public class GroundMappingTests
{
    // People's Square, Shanghai: a real latitude, so the cos(latitude) scaling of longitude matters.
    private static readonly GeoPoint Origin = new(31.2304, 121.4737);
    private const double MetresPerDegree = GroundMapping.EarthRadiusMetres * Math.PI / 180;

    private static GeoPoint Geo(double east, double north) => new(
        Origin.Latitude + north / MetresPerDegree,
        Origin.Longitude + east / (MetresPerDegree * Math.Cos(Origin.Latitude * Math.PI / 180)));

    /// <summary>
    /// A pinhole camera 6 m up at (0, -10) m, looking north, pitched 20° down, normalised focal length 0.8:
    /// its ground-to-image map is a true homography. Horizon at y = 0.5 - 0.8·tan 20° ≈ 0.209.
    /// </summary>
    private static NormalisedPoint Project(double east, double north)
    {
        const double pitch = 20 * Math.PI / 180, f = 0.8;
        double vx = east, vy = north + 10, vz = -6;                      // from camera to ground point
        var xc = vx;                                                      // right  = (1, 0, 0)
        var yc = -Math.Sin(pitch) * vy - Math.Cos(pitch) * vz;            // down   = (0, -sin, -cos)
        var zc = Math.Cos(pitch) * vy - Math.Sin(pitch) * vz;             // ahead  = (0, cos, -sin)
        return new NormalisedPoint(0.5 + f * xc / zc, 0.5 + f * yc / zc);
    }

    private static Camera Cam(IReadOnlyList<GroundPoint> ground, double lat = 31.2303, double lon = 121.4737) => new()
    {
        Id = "cam-1", Name = "cam", GroupId = "g", Url = "x.mp4", Latitude = lat, Longitude = lon, Ground = ground,
    };

    private static GroundPoint Surveyed(double east, double north)
    {
        var g = Geo(east, north);
        return new GroundPoint(Project(east, north), g.Latitude, g.Longitude);
    }

    private static readonly GroundPoint[] Survey = [Surveyed(-8, 5), Surveyed(8, 5), Surveyed(10, 25), Surveyed(-10, 25)];

    [Fact]
    public void Synthetic_camera_round_trip_is_within_centimetres()
    {
        var mapping = new GroundMapping(Cam(Survey));
        Assert.True(mapping.IsMapped, mapping.Problem);
        Assert.Null(mapping.Problem);
        Assert.True(mapping.RmsErrorMetres < 0.001, $"rms {mapping.RmsErrorMetres}");

        foreach (var east in new[] { -12.0, -6, 0, 6, 12 })
            foreach (var north in new[] { 0.0, 8, 15, 22, 30 })
            {
                var image = Project(east, north);
                var ground = mapping.ToGround(image);
                Assert.NotNull(ground);
                var error = GroundMapping.DistanceMetres(ground.Value, Geo(east, north));
                Assert.True(error < 0.01, $"({east}, {north}) m mapped {error:F4} m off");
            }
    }

    [Fact]
    public void More_than_four_points_are_fitted_by_least_squares_and_a_bad_one_shows_in_the_error()
    {
        var good = new GroundMapping(Cam([.. Survey, Surveyed(0, 15), Surveyed(3, 9)]));
        Assert.True(good.IsMapped);
        Assert.True(good.RmsErrorMetres < 0.001, $"rms {good.RmsErrorMetres}");

        var off = Geo(2, 15);   // surveyed 2 m east of where it really is
        var bad = new GroundMapping(Cam([.. Survey, new GroundPoint(Project(0, 15), off.Latitude, off.Longitude), Surveyed(3, 9)]));
        Assert.True(bad.IsMapped);
        Assert.True(bad.RmsErrorMetres > 0.2, $"rms {bad.RmsErrorMetres}");
    }

    [Fact]
    public void A_street_corner_surveyed_at_four_points_about_20_m_apart()
    {
        // Four kerb corners of a ~20 m x 20 m stretch of pavement, clicked on the image as a trapezoid.
        GroundPoint nearLeft = new(new(0.15, 0.92), 31.23040, 121.47370);
        GroundPoint nearRight = new(new(0.85, 0.92), 31.23040, 121.47391);
        GroundPoint farRight = new(new(0.68, 0.45), 31.23058, 121.47391);
        GroundPoint farLeft = new(new(0.32, 0.45), 31.23058, 121.47370);
        var mapping = new GroundMapping(Cam([nearLeft, nearRight, farRight, farLeft], 31.23030, 121.47380));
        Assert.True(mapping.IsMapped, mapping.Problem);

        static GeoPoint G(GroundPoint p) => new(p.Latitude, p.Longitude);
        foreach (var p in new[] { nearLeft, nearRight, farRight, farLeft })
            Assert.True(GroundMapping.DistanceMetres(mapping.ToGround(p.Image)!.Value, G(p)) < 0.01);

        var width = GroundMapping.DistanceMetres(G(nearLeft), G(nearRight));
        var depth = GroundMapping.DistanceMetres(G(nearLeft), G(farLeft));
        Assert.InRange(width, 19.5, 20.5);
        Assert.InRange(depth, 19.5, 20.5);

        // Lines stay lines under a homography: the image diagonals cross where the ground diagonals do (the square's centre),
        // even though that is not the image quad's midpoint in y.
        var crossing = Intersect(nearLeft.Image, farRight.Image, nearRight.Image, farLeft.Image);
        var centre = mapping.ToGround(crossing)!.Value;
        Assert.True(GroundMapping.DistanceMetres(centre, new GeoPoint(31.23049, 121.473805)) < 0.05);

        // A point on the near kerb line in the image is on the near kerb on the ground (latitude 31.23040), between its ends.
        var onKerb = mapping.ToGround(new NormalisedPoint(0.4, 0.92))!.Value;
        Assert.True(Math.Abs(onKerb.Latitude - 31.23040) * 111_195 < 0.01);
        Assert.InRange(onKerb.Longitude, 121.47370, 121.47391);

        // Farther up the image is farther from the camera (north here).
        Assert.True(mapping.ToGround(new(0.5, 0.6))!.Value.Latitude > mapping.ToGround(new(0.5, 0.8))!.Value.Latitude);
    }

    [Fact]
    public void Above_the_horizon_or_far_outside_the_survey_is_unknown()
    {
        var mapping = new GroundMapping(Cam(Survey));
        Assert.Null(mapping.ToGround(new(0.5, 0.1)));    // sky: w <= 0
        Assert.Null(mapping.ToGround(new(0.5, 0.0)));
        Assert.Null(mapping.ToGround(new(0.5, 0.22)));   // just below the horizon: ~480 m away, beyond 4 x the survey radius

        Assert.InRange(mapping.MaxRangeMetres, 50, 60);  // 4 x 14.1 m
        var near = mapping.ToGround(new(0.5, 0.99));     // at the camera's feet, inside the range
        Assert.NotNull(near);

        var wide = new GroundMapping(Cam(Survey), maxRangeMetres: 1000);
        var far = wide.ToGround(new(0.5, 0.22));
        Assert.NotNull(far);
        Assert.InRange(GroundMapping.DistanceMetres(far.Value, Geo(0, 15)), 400, 600);
        Assert.Null(wide.ToGround(new(0.5, 0.1)));       // the sky stays unknown whatever the range
    }

    [Fact]
    public void Without_ground_points_every_point_is_the_camera_position()
    {
        var mapping = new GroundMapping(Cam([], 31.2301, 121.4702));
        Assert.False(mapping.IsMapped);
        Assert.Null(mapping.Problem);
        Assert.True(mapping.HasPosition);
        Assert.Equal(new GeoPoint(31.2301, 121.4702), mapping.ToGround(new(0.1, 0.9)));
        Assert.Equal(new GeoPoint(31.2301, 121.4702), mapping.ToGround(new(0.9, 0.1)));
    }

    [Fact]
    public void Too_few_or_collinear_points_are_a_problem_and_fall_back_to_the_camera_position()
    {
        var three = new GroundMapping(Cam(Survey[..3]));
        Assert.False(three.IsMapped);
        Assert.Contains("4 or more", three.Problem);
        Assert.Equal(new GeoPoint(31.2303, 121.4737), three.ToGround(new(0.5, 0.5)));

        var line = new GroundMapping(Cam([Surveyed(0, 5), Surveyed(0, 10), Surveyed(0, 15), Surveyed(0, 20)]));
        Assert.False(line.IsMapped);
        Assert.NotNull(line.Problem);
        Assert.Equal(new GeoPoint(31.2303, 121.4737), line.ToGround(new(0.5, 0.5)));
    }

    [Fact]
    public void A_camera_with_no_position_and_no_survey_has_no_place()
    {
        var mapping = new GroundMapping(Cam([], 0, 0));
        Assert.False(mapping.HasPosition);
        Assert.Null(mapping.ToGround(new(0.5, 0.5)));

        var surveyedOnly = new GroundMapping(Cam(Survey, 0, 0));
        Assert.True(surveyedOnly.HasPosition);           // the surveyed centroid stands in for it
        Assert.True(GroundMapping.DistanceMetres(surveyedOnly.Position, Geo(0, 15)) < 0.01);
    }

    [Fact]
    public void Distance_sanity()
    {
        var a = new GeoPoint(31.2304, 121.4737);
        Assert.Equal(11.12, GroundMapping.DistanceMetres(a, a with { Latitude = a.Latitude + 1e-4 }), 2);
        Assert.Equal(0, GroundMapping.DistanceMetres(a, a));
        var b = new GeoPoint(31.2310, 121.4745);
        Assert.Equal(GroundMapping.DistanceMetres(a, b), GroundMapping.DistanceMetres(b, a), 9);
        // A degree of longitude shrinks with cos(latitude): half at 60°.
        var north = new GeoPoint(60, 10);
        Assert.Equal(5.56, GroundMapping.DistanceMetres(north, north with { Longitude = 10 + 1e-4 }), 2);
        // Across the antimeridian it is the short way round.
        Assert.Equal(11.12, GroundMapping.DistanceMetres(new(0, 179.99995), new(0, -179.99995)), 2);
    }

    private static NormalisedPoint Intersect(NormalisedPoint a, NormalisedPoint b, NormalisedPoint c, NormalisedPoint d)
    {
        double d1x = b.X - a.X, d1y = b.Y - a.Y, d2x = d.X - c.X, d2y = d.Y - c.Y;
        var t = ((c.X - a.X) * d2y - (c.Y - a.Y) * d2x) / (d1x * d2y - d1y * d2x);
        return new(a.X + t * d1x, a.Y + t * d1y);
    }
}
