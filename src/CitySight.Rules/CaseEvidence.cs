using CitySight.Domain;
using CitySight.Imaging;

namespace CitySight.Rules;

/// <summary>
/// The pictures that prove a case to a dispatcher: the frame with the zone's outline and the object's box, captioned
/// with the case type in Chinese and English, the camera and the local time; the object cut out; and for a static
/// object the scene before it came beside the frame that raised it.
/// </summary>
public static class CaseEvidence
{
    /// <summary>The annotated frame.</summary>
    public static byte[] Annotated(Hit hit, Frame frame, Camera camera, CaseType type) =>
        EvidenceImage.EncodeCaseJpeg(frame.Bgr, frame.Width, frame.Height, Sketch(hit, camera, type));

    /// <summary>The object with its surroundings, from the same frame.</summary>
    public static byte[] Crop(Hit hit, Frame frame) => EvidenceImage.EncodeCropJpeg(frame.Bgr, frame.Width, frame.Height, hit.Box);

    /// <summary>The remembered view of the scene (before) beside this frame (after), both marked and captioned.</summary>
    public static byte[] BeforeAfter(Hit hit, Frame frame, Camera camera, CaseType type, SceneView before) =>
        EvidenceImage.EncodePairJpeg(
            before.Bgr, before.Width, before.Height, frame.Bgr, frame.Width, frame.Height, Sketch(hit, camera, type),
            $"之前 before {Local(before.TakenAt, camera):HH:mm:ss}", $"之后 after {Local(hit.SeenAt, camera):HH:mm:ss}");

    /// <summary>What is drawn: the zone the case was raised in, the object's box, and the caption.</summary>
    public static EvidenceSketch Sketch(Hit hit, Camera camera, CaseType type)
    {
        var zones = new List<IReadOnlyList<NormalisedPoint>>(1);
        foreach (var z in camera.Zones)
            if (!z.Exclude && z.Name == hit.Zone)
            {
                zones.Add(z.Polygon);
                break;
            }
        var seen = Local(hit.SeenAt, camera);
        return new EvidenceSketch(
            zones,
            [(hit.Box, $"{type.NameZh} {hit.ClassName} {hit.Confidence:F2}")],
            [
                $"{type.NameZh}  {type.NameEn}",
                hit.Zone.Length > 0 ? $"{camera.Name} · {camera.Id} · {hit.Zone}" : $"{camera.Name} · {camera.Id}",
                $"{seen:yyyy-MM-dd HH:mm:ss} ({camera.TimeZone.Id})",
            ]);
    }

    private static DateTimeOffset Local(DateTimeOffset at, Camera camera) => TimeZoneInfo.ConvertTime(at, camera.TimeZone);
}
