using CitySight.Domain;

namespace CitySight.Tracking.Tests;

/// <summary>Synthetic detector output: boxes, jitter and misses from a seeded Random, so every run is the same.</summary>
internal static class Scenes
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);
    public const string Parking = "illegal_parking";

    public static Detection Car(Box box, float confidence = 0.7f) => new(2, "car", confidence, box, Parking);
    public static Detection Bus(Box box, float confidence = 0.8f) => new(5, "bus", confidence, box, Parking);
    public static Detection Person(Box box, float confidence = 0.8f) => new(0, "person", confidence, box, null);

    public static Box Jitter(Box b, Random rng, float pixels) => new(
        b.X1 + J(rng, pixels), b.Y1 + J(rng, pixels), b.X2 + J(rng, pixels), b.Y2 + J(rng, pixels));

    public static Box Shift(Box b, float dx, float dy) => new(b.X1 + dx, b.Y1 + dy, b.X2 + dx, b.Y2 + dy);

    public static float Between(Random rng, float lo, float hi) => lo + (float)rng.NextDouble() * (hi - lo);

    private static float J(Random rng, float pixels) => (float)(rng.NextDouble() * 2 - 1) * pixels;

    /// <summary>The one live track whose box overlaps <paramref name="truth"/> well, or null.</summary>
    public static Track? Near(IReadOnlyList<Track> tracks, Box truth, float minIoU = 0.5f)
    {
        Track? found = null;
        for (var i = 0; i < tracks.Count; i++)
        {
            if (tracks[i].Box.IoU(truth) < minIoU) continue;
            Assert.Null(found); // two tracks on one object is a failure in itself
            found = tracks[i];
        }
        return found;
    }

    public static Track ById(IReadOnlyList<Track> tracks, long id)
    {
        for (var i = 0; i < tracks.Count; i++)
            if (tracks[i].Id == id) return tracks[i];
        throw new Xunit.Sdk.XunitException($"track {id} not among the {tracks.Count} live tracks");
    }
}
