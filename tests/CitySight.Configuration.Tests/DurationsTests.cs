namespace CitySight.Configuration.Tests;

public class DurationsTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("5s", 5_000)]
    [InlineData("10m", 600_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("2m30s", 150_000)]
    [InlineData("1h0m1s250ms", 3_601_250)]
    [InlineData("1.5s", 1_500)]
    [InlineData("0.5h", 1_800_000)]
    [InlineData("90", 90_000)]
    [InlineData("2.25", 2_250)]
    [InlineData("0", 0)]
    [InlineData("0s", 0)]
    [InlineData("  5s ", 5_000)]
    public void Parses_accepted_forms(string text, long expectedMs)
    {
        Assert.True(Durations.TryParse(text, out var d), text);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), d);
        Assert.Equal(d, Durations.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void Rejects_blank(string? text) => Assert.False(Durations.TryParse(text, out _));

    [Theory]
    [InlineData("10 minutes")]
    [InlineData("1h 30m")]      // no spaces between parts
    [InlineData("30m1h")]       // largest unit first
    [InlineData("1m1m")]        // each unit once
    [InlineData("10M")]         // lower case only
    [InlineData("1d")]          // days are not a unit
    [InlineData("-5s")]
    [InlineData("+5s")]
    [InlineData("5 s")]
    [InlineData("1e3")]
    [InlineData(".5s")]
    [InlineData("5.s")]
    [InlineData("ms")]
    [InlineData("00:10:00")]
    [InlineData("99999999999999999999999h")] // beyond TimeSpan
    [InlineData("99999999999999999999999999999999999999s")] // beyond decimal
    public void Rejects_other_forms(string text)
    {
        Assert.False(Durations.TryParse(text, out _), text);
        var e = Assert.Throws<FormatException>(() => Durations.Parse(text));
        Assert.Contains("500ms", e.Message); // the message shows the accepted forms
    }
}
