using System.Collections.Frozen;

namespace CitySight.Domain;

/// <summary>
/// The case types CitySight finds without a model trained for them, and the vocabulary that lets it: a static-object
/// pass (what was put down and left) for garbage and billboards, and, for street stalls, a person staying beside vendor
/// items a COCO model knows. The detect, track and rules stages read it here, so they agree on one meaning.
/// </summary>
public static class ModelFreeTypes
{
    public const string Garbage = "garbage";
    public const string Billboard = "billboard";
    public const string StreetStall = "street_stall";

    /// <summary>The class name of the static-object pass's detections.</summary>
    public const string StaticObjectClass = "static_object";

    /// <summary>The class a stall's vendor is seen as (COCO).</summary>
    public const string PersonClass = "person";

    /// <summary>
    /// What a static object means, in order of preference where one zone lists several: on the ground (pavement, road,
    /// green belt) garbage or piled materials; on a façade or wall zone a billboard.
    /// </summary>
    public static readonly IReadOnlyList<string> StaticObjectTypes = [Garbage, Billboard];

    /// <summary>
    /// Classes that make a person's stay a stall: a static object (goods put down) or what COCO models know a stall by
    /// (an umbrella, a table, a chair, a bicycle or motorbike standing as a cart). Both spellings of COCO's names.
    /// </summary>
    public static readonly FrozenSet<string> VendorItemClasses = FrozenSet.Create(StringComparer.Ordinal,
        StaticObjectClass, "umbrella", "diningtable", "dining table", "chair", "bicycle", "motorbike", "motorcycle");

    /// <summary>Whether a camera asks for a type found without a trained model (it then gets every model, for masks and persons).</summary>
    public static bool AnyAskedBy(Camera? camera)
    {
        if (camera is null) return false;
        foreach (var t in camera.Detectors)
            if (t is Garbage or Billboard or StreetStall) return true;
        return false;
    }

    /// <summary>Whether a camera asks for street stalls.</summary>
    public static bool AsksForStalls(Camera? camera) => camera is not null && camera.Detectors.Contains(StreetStall);

    /// <summary>
    /// The case type a static object raises on <paramref name="camera"/> when its foot is at <paramref name="foot"/>:
    /// the first of <see cref="StaticObjectTypes"/> the camera asks for whose zone holds the foot (schedules are the
    /// rules' to apply); null when none does (on a stall-only zone it is then only a vendor item).
    /// </summary>
    public static string? StaticObjectTypeAt(Camera camera, NormalisedPoint foot)
    {
        foreach (var type in StaticObjectTypes)
            if (camera.Detectors.Contains(type) && camera.ZoneFor(type, foot) is not null) return type;
        return null;
    }
}
