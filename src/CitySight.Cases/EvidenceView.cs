namespace CitySight.Cases;

/// <summary>
/// The pictures a case keeps: the best view so far and the first one, each as the annotated frame and a crop; and for
/// a static object (garbage, a billboard) the scene before it came beside the frame that raised the case.
/// </summary>
public enum EvidenceView
{
    Best,
    BestCrop,
    First,
    FirstCrop,
    /// <summary>The before / after pair: the reference view of the scene beside the frame that raised the case.</summary>
    BeforeAfter,
}
