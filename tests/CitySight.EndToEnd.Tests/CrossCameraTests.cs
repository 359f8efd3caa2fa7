using CitySight.Domain;
using CitySight.Tests;

namespace CitySight.EndToEnd.Tests;

/// <summary>
/// Two cameras that see the same place make one case per event, through the real pipeline (real clip, real model,
/// real store): the district-wide dedup compares where hits stand on the ground, whichever camera saw them.
/// </summary>
public class CrossCameraTests(Xunit.Abstractions.ITestOutputHelper output)
{
    // A surveyed car park: image corners of the lot and where they are (about 40 m x 30 m).
    private static readonly GroundPoint[] LotSurvey =
    [
        new(new NormalisedPoint(0.05, 0.35), 31.20030, 121.40000),
        new(new NormalisedPoint(0.95, 0.35), 31.20030, 121.40042),
        new(new NormalisedPoint(0.95, 0.98), 31.20003, 121.40042),
        new(new NormalisedPoint(0.05, 0.98), 31.20003, 121.40000),
    ];

    private static Camera Lot(string id, IReadOnlyList<GroundPoint> ground, double lat = 31.2002, double lon = 121.4002) => new()
    {
        Id = id,
        Name = id,
        GroupId = "lot",
        Url = TestAssets.Media("parking-lot-cctv-640x480.mp4"),
        SampleInterval = TimeSpan.FromSeconds(0.5),
        Detectors = ["illegal_parking"],
        RealTime = false,
        Latitude = lat,
        Longitude = lon,
        Ground = ground,
    };

    private static Task<IReadOnlyList<Case>> PlayAsync(params Camera[] cameras) => FilePlayback.PlayAsync("cross-camera", cameras);

    [Fact]
    public async Task Two_cameras_mapped_onto_the_same_ground_make_the_cases_of_one()
    {
        var alone = await PlayAsync(Lot("lot-a", LotSurvey));
        var both = await PlayAsync(Lot("lot-a", LotSurvey), Lot("lot-b", LotSurvey));
        // Unmapped, a camera's hits are told apart on its own image; two such cameras 200 m apart share nothing.
        var aloneUnmapped = await PlayAsync(Lot("lot-a", [], 31.2000, 121.4000));
        var apart = await PlayAsync(Lot("lot-a", [], 31.2000, 121.4000), Lot("lot-b", [], 31.2018, 121.4000));

        foreach (var (name, set) in new[] { ("alone", alone), ("both", both), ("alone-unmapped", aloneUnmapped), ("apart", apart) })
            foreach (var c in set) output.WriteLine($"{name} {c.Id} {c.CameraId} {c.FirstSeen:HH:mm:ss.fff} {c.Latitude:F6},{c.Longitude:F6} {c.Box}");
        Assert.NotEmpty(alone);
        Assert.Equal(alone.Count, both.Count);
        Assert.NotEmpty(aloneUnmapped);
        Assert.Equal(2 * aloneUnmapped.Count, apart.Count);
        Assert.Equal(aloneUnmapped.Count, apart.Count(c => c.CameraId == "lot-b"));
        // Mapped cases are placed where the car stands, in or just beside the surveyed lot (cars at the image edge are
        // a few metres beyond the surveyed corners), not at the camera.
        Assert.All(both, c =>
        {
            Assert.InRange(c.Latitude, 31.20003 - 0.0001, 31.20030 + 0.0001);
            Assert.InRange(c.Longitude, 121.40000 - 0.0001, 121.40042 + 0.0001);
        });
    }
}
