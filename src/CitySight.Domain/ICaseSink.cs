namespace CitySight.Domain;

/// <summary>
/// What case raising (rules → dedup → case building) needs from wherever cases are kept: open a case, record a later
/// sighting of one, close one no camera sees any more, and read back recent cases after a restart. The case store
/// implements it; the rules stage knows nothing else of the store.
/// </summary>
public interface ICaseSink
{
    /// <summary>
    /// Commits a new case (with its evidence pictures); the case as stored. A store shared by a cluster's nodes may instead
    /// answer with another node's open case of the same type at the same place, committed a moment before (then this one
    /// is not stored): the id tells which.
    /// </summary>
    Task<Case> OpenAsync(Case c, CancellationToken ct = default);

    /// <summary>
    /// A later sighting of an open case: last seen moves forward, confidence rises when higher, and the pictures are
    /// replaced when <paramref name="betterEvidence"/> is given (the caller decides what is better).
    /// </summary>
    /// <exception cref="KeyNotFoundException">No case has this id.</exception>
    Task UpdateSightingAsync(string caseId, DateTimeOffset lastSeen, float confidence, byte[]? betterEvidence,
        byte[]? betterCrop, CancellationToken ct = default);

    /// <summary>
    /// Closes a case whose object no camera has seen for the dedup window. False when it was already closed or rejected
    /// (dispatch's word stands).
    /// </summary>
    /// <exception cref="KeyNotFoundException">No case has this id.</exception>
    Task<bool> CloseGoneAsync(string caseId, DateTimeOffset at, string note, CancellationToken ct = default);

    /// <summary>
    /// Cases last seen strictly after <paramref name="lastSeenAfter"/>, in the order raised, without their pictures;
    /// with <paramref name="includeFinal"/>, closed and rejected ones too. Lets the rules re-seed their memory after a restart.
    /// </summary>
    Task<IReadOnlyList<Case>> CasesSinceAsync(DateTimeOffset lastSeenAfter, bool includeFinal, CancellationToken ct = default);
}
