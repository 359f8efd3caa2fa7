
namespace CitySight.Ingest.Tests;

/// <summary>The per-camera frames/s the console shows: a steady stream's true rate, a slowed or stopped one falling.</summary>
public sealed class FrameRateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_steady_stream_shows_its_rate_after_one_window_and_none_before()
    {
        var rate = new FrameRate();
        Assert.Null(rate.PerSecond(T0));
        var at = T0;
        for (var i = 0; i < 40; i++, at = at.AddMilliseconds(200)) rate.Add(at);   // 5 frames/s for 8 s
        Assert.Null(rate.PerSecond(at.AddMilliseconds(-200)));
        for (var i = 0; i < 20; i++, at = at.AddMilliseconds(200)) rate.Add(at);   // past 10 s: a window closes
        Assert.Equal(5.0, rate.PerSecond(at.AddMilliseconds(-200))!.Value, 3);
    }

    [Fact]
    public void A_stream_that_stops_falls_towards_zero_and_one_that_slows_shows_its_new_rate()
    {
        var rate = new FrameRate();
        var at = T0;
        for (var i = 0; i <= 50; i++, at = at.AddMilliseconds(200)) rate.Add(at);
        var last = at.AddMilliseconds(-200);
        Assert.Equal(5.0, rate.PerSecond(last)!.Value, 3);
        // No frame for 30 s: the window still open counts what it got (nothing), not the old 5 frames/s.
        Assert.Equal(0.0, rate.PerSecond(last.AddSeconds(30))!.Value, 3);

        at = last.AddSeconds(30);
        for (var i = 0; i < 30; i++, at = at.AddSeconds(1)) rate.Add(at);    // 1 frame/s from now on
        Assert.Equal(1.0, rate.PerSecond(at.AddSeconds(-1))!.Value, 1);
    }
}
