namespace CitySight.Cases;

/// <summary>What a feed event says about its case.</summary>
public enum CaseFeedKind
{
    Opened = 1,
    /// <summary>Seen again later, or a better picture (last seen, confidence, evidence).</summary>
    Updated = 2,
    StateChanged = 3,
}
