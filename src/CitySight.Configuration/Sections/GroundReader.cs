using CitySight.Domain;

namespace CitySight.Configuration;

/// <summary>A camera's ground mapping: image points with their WGS84 position, checked to make a homography.</summary>
internal static class GroundReader
{
    /// <summary>
    /// ground: 4+ points, each {image: [x, y], lat, lon}, with four of them in general position on the image and on the
    /// ground (a homography needs that). Absent or [] = no mapping: the camera's own position stands for its hits.
    /// </summary>
    public static List<GroundPoint> ReadGround(Section cam, double? cameraLat, double? cameraLon)
    {
        if (cam.List("ground") is not { Children.Count: > 0 } seq) return [];
        var src = cam.Src;
        var field = cam.Field("ground");
        var points = new List<GroundPoint>();
        var ok = true;
        var i = 0;
        foreach (var item in seq.Children)
        {
            var f = $"{field}[{i++}]";
            if (Section.Open(src, item, f, item.Start, "cameras[].ground[]") is not { } g) { ok = false; continue; }
            NormalisedPoint? image = null;
            if (g.Value("image") is { } imageNode) image = ZoneReader.ReadImagePoint(src, imageNode, g.Field("image"));
            else g.Required("image");
            var lat = g.Number("lat", required: true);
            var lon = g.Number("lon", required: true);
            if (image is null || lat is null || lon is null) { ok = false; continue; }
            if (cameraLat is { } cl && cameraLon is { } co)
            {
                var (dx, dy) = Metres(lat.Value, lon.Value, cl, co);
                var km = Math.Sqrt(dx * dx + dy * dy) / 1000;
                if (km > MaxGroundDistanceKm)
                {
                    src.Error(item.Start, f, $"is {km:0.#} km from the camera's own latitude/longitude; ground points must be places this camera sees (at most {MaxGroundDistanceKm} km away): check the digits, and that lat and lon are not swapped");
                    ok = false;
                    continue;
                }
            }
            points.Add(new GroundPoint(image.Value, lat.Value, lon.Value));
        }
        var at = cam.KeyMark("ground");
        if (seq.Children.Count < 4)
        {
            src.Error(at, field, $"needs at least 4 points for a ground mapping (got {seq.Children.Count}); leave ground out to use the camera's own latitude/longitude");
            return [];
        }
        if (!ok) return [];
        if (!HasFourInGeneralPosition(points.Select(p => (p.Image.X, p.Image.Y)).ToList(), MinImageCross))
        {
            src.Error(at, field, "the image points are all on one line (or repeated): a ground mapping needs 4 points with no three on one line");
            return [];
        }
        var origin = points[0];
        if (!HasFourInGeneralPosition(points.Select(p => Metres(p.Latitude, p.Longitude, origin.Latitude, origin.Longitude)).ToList(), MinGroundCross))
        {
            src.Error(at, field, "the lat/lon points are all on one line (or repeated): a ground mapping needs 4 places with no three on one line");
            return [];
        }
        return points;
    }

    private const double MaxGroundDistanceKm = 5;
    /// <summary>Twice the smallest triangle area (fraction of the image) that counts as "not on one line".</summary>
    private const double MinImageCross = 1e-4;
    /// <summary>Ditto on the ground, in square metres.</summary>
    private const double MinGroundCross = 0.5;

    /// <summary>East and north metres of (lat, lon) from (lat0, lon0); plenty accurate over a camera's view.</summary>
    private static (double X, double Y) Metres(double lat, double lon, double lat0, double lon0) =>
        ((lon - lon0) * 111_320 * Math.Cos(lat0 * Math.PI / 180), (lat - lat0) * 110_574);

    /// <summary>Whether some 4 of the points have no 3 on one line (brute force: the lists are short).</summary>
    private static bool HasFourInGeneralPosition(List<(double X, double Y)> p, double minCross)
    {
        bool Apart(int a, int b, int c) =>
            Math.Abs((p[b].X - p[a].X) * (p[c].Y - p[a].Y) - (p[b].Y - p[a].Y) * (p[c].X - p[a].X)) >= minCross;
        for (var i = 0; i < p.Count; i++)
            for (var j = i + 1; j < p.Count; j++)
                for (var k = j + 1; k < p.Count; k++)
                {
                    if (!Apart(i, j, k)) continue;
                    for (var l = k + 1; l < p.Count; l++)
                        if (Apart(i, j, l) && Apart(i, k, l) && Apart(j, k, l)) return true;
                }
        return false;
    }
}
