namespace CitySight.Cases;

/// <summary>The pictures a case keeps: the best view so far and the first one, each as the annotated frame and a crop.</summary>
public enum EvidenceView
{
    Best,
    BestCrop,
    First,
    FirstCrop,
}
