namespace CitySight.Cases;

/// <summary>The pictures that prove the cases (JPEGs, first and best view, each whole and cropped) and their retention.</summary>
public interface IEvidenceStore
{
    /// <summary>The case's best view, or null when the id is unknown or the case has no evidence.</summary>
    Task<byte[]?> GetEvidenceAsync(string id, CancellationToken ct = default) => GetEvidenceAsync(id, EvidenceView.Best, ct);

    /// <summary>One of the case's pictures, or null when the id is unknown or that picture does not exist (or was pruned).</summary>
    Task<byte[]?> GetEvidenceAsync(string id, EvidenceView view, CancellationToken ct = default);

    /// <summary>
    /// Evidence retention. Deletes every picture of cases closed or rejected before <paramref name="closedBefore"/>; then,
    /// while the evidence folder holds more than <paramref name="maxBytes"/>, the pictures of the longest-closed cases
    /// and then the first views of the oldest open cases. The best view of a case still open is never deleted: it is
    /// the proof dispatch is acting on. The cases themselves stay.
    /// </summary>
    Task<EvidencePruning> PruneEvidenceAsync(DateTimeOffset closedBefore, long maxBytes, CancellationToken ct = default);
}
