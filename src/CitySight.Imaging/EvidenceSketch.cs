using CitySight.Domain;

namespace CitySight.Imaging;

/// <summary>
/// What an evidence picture shows on top of the scene, for a dispatcher who has never seen this camera: the zones the
/// rule watches, the objects that raised the case, and caption lines printed in a band below the picture.
/// </summary>
/// <param name="Zones">Outlines drawn in amber with a light fill, each point 0..1 of the image, so they fit any size.</param>
/// <param name="Marks">Red boxes with labels, in pixels of the (after) frame; labels may be Chinese.</param>
/// <param name="Caption">Lines for the band below the picture, first line emphasised (e.g. the case type); may be empty (no band).</param>
public sealed record EvidenceSketch(
    IReadOnlyList<IReadOnlyList<NormalisedPoint>> Zones,
    IReadOnlyList<(Box Box, string Label)> Marks,
    IReadOnlyList<string> Caption)
{
    /// <summary>Nothing drawn and no band: the plain frame.</summary>
    public static EvidenceSketch Empty { get; } = new([], [], []);
}
