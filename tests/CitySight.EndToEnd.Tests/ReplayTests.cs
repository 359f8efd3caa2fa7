using CitySight.Domain;
using CitySight.Tests;

namespace CitySight.EndToEnd.Tests;

/// <summary>
/// Rules and dedup run on capture time, never the wall clock: a file replayed as fast as it decodes gives the same
/// cases, with the same ids, as the same file played in real time.
/// </summary>
public class ReplayTests
{
    private static async Task<IReadOnlyList<Case>> PlayAsync(bool realTime)
    {
        var camera = new Camera
        {
            Id = "lot-file",
            Name = "Parking lot (file)",
            GroupId = "replay",
            Url = TestAssets.Media("parking-lot-cctv-640x480.mp4"),
            SampleInterval = TimeSpan.FromSeconds(0.5),
            Detectors = ["illegal_parking"],
            RealTime = realTime,
        };
        return await FilePlayback.PlayAsync("replay", camera);
    }

    [Fact]
    public async Task Fast_replays_and_a_real_time_play_of_the_same_file_give_the_same_cases()
    {
        var fast1 = await PlayAsync(realTime: false);
        var fast2 = await PlayAsync(realTime: false);
        var real = await PlayAsync(realTime: true);

        Assert.NotEmpty(fast1);
        static string Key(Case c) => $"{c.Id} {c.FirstSeen:O} {c.ClassName}";
        Assert.Equal(fast1.Select(Key).Order(), fast2.Select(Key).Order());
        Assert.Equal(fast1.Select(Key).Order(), real.Select(Key).Order());
    }
}
