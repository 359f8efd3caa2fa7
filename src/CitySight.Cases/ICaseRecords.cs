using CitySight.Domain;

namespace CitySight.Cases;

/// <summary>
/// The cases themselves: open, later sightings, the lifecycle (dispatch's acknowledgement, closing, rejection) and
/// reading them back. Every change a consumer should hear about is also an event on the <see cref="ICaseFeed"/> of the
/// same store, committed with it.
/// </summary>
/// <remarks>
/// What every backend keeps from <see cref="ICaseSink"/>:
/// <see cref="ICaseSink.OpenAsync"/> gives a new case the next sequence; its pictures and the case are durable before
/// it returns and before any feed follower is woken. It is idempotent on <see cref="Case.Id"/> (an id already stored
/// returns the stored case unchanged and adds nothing to the feed), ignores <see cref="Case.Sequence"/> on the input,
/// stores the case as <see cref="CaseState.Reported"/> (reported now), and refuses an id that cannot be a file name
/// (<see cref="ArgumentException"/>).
/// <see cref="ICaseSink.UpdateSightingAsync"/> moves last seen forward (never back) and confidence up; a better view
/// replaces the best view, and the first better view keeps the case's original pictures as its first view
/// (<see cref="EvidenceView.First"/>, <see cref="EvidenceView.FirstCrop"/>). Seen later or a better picture is a feed
/// event (<see cref="CaseFeedKind.Updated"/>) committed with it, at most once per minute of frame time per case.
/// </remarks>
public interface ICaseRecords : ICaseSink
{
    /// <summary>
    /// Raised after a state change is committed, on the thread that committed it and before the store's next write: lets the
    /// rules stage hear dispatch's closures and rejections at once. Handlers must only hand the event on (enqueue), never
    /// call back into the store, and must not throw.
    /// </summary>
    event Action<CaseFeedEvent>? StateChanged;

    /// <summary>A later sighting (see <see cref="ICaseSink.UpdateSightingAsync"/>) without a crop of the better view.</summary>
    Task UpdateSightingAsync(string caseId, DateTimeOffset lastSeen, float confidence, byte[]? betterEvidence,
        CancellationToken ct = default) => UpdateSightingAsync(caseId, lastSeen, confidence, betterEvidence, null, ct);

    /// <summary>
    /// Moves a case along its lifecycle (dispatch's acknowledgement, closing or rejection). Saying the state it is
    /// already in changes nothing (dispatch may repeat itself); a backward or skipped step is refused. A change is a
    /// <see cref="CaseFeedKind.StateChanged"/> feed event and raises <see cref="StateChanged"/>.
    /// </summary>
    /// <returns>The case as stored afterwards (without its pictures).</returns>
    /// <exception cref="KeyNotFoundException">No case has this id.</exception>
    /// <exception cref="InvalidCaseTransitionException">The case cannot go from its state to <paramref name="to"/>.</exception>
    Task<Case> TransitionAsync(string caseId, CaseState to, DateTimeOffset at, string? note = null, CancellationToken ct = default);

    /// <summary>The stored case with its best view (<see cref="Case.Evidence"/>), or null.</summary>
    Task<Case?> GetAsync(string id, CancellationToken ct = default);

    /// <summary>
    /// Open cases (reported or acknowledged) last seen strictly after <paramref name="lastSeenAfter"/>, in sequence
    /// order, without evidence. Lets the rules stage re-seed its dedup memory after a restart.
    /// </summary>
    Task<IReadOnlyList<Case>> OpenSinceAsync(DateTimeOffset lastSeenAfter, CancellationToken ct = default) =>
        CasesSinceAsync(lastSeenAfter, includeFinal: false, ct);

    /// <summary>
    /// The newest cases (highest sequence first) that match <paramref name="query"/>, at most its limit, without evidence.
    /// A backend answers it from an index (the console asks on every page load, with 10,000+ cases stored): never by
    /// reading the whole store.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The limit is below 1 or above <see cref="CaseQuery.MaxLimit"/>.</exception>
    Task<IReadOnlyList<Case>> NewestAsync(CaseQuery query, CancellationToken ct = default);

    /// <summary>
    /// How many cases there are by state, type and group (one <see cref="CaseCount"/> per combination that has any):
    /// only those in <paramref name="states"/> (null: every state), and only those reported at or after
    /// <paramref name="reportedFrom"/> (null: whenever). Counted by the backend (GROUP BY), not by reading the cases.
    /// </summary>
    Task<IReadOnlyList<CaseCount>> CountAsync(IReadOnlySet<CaseState>? states, DateTimeOffset? reportedFrom, CancellationToken ct = default);

    /// <summary>
    /// Every case closed or rejected at or after <paramref name="closedFrom"/> (by the time its state changed), oldest
    /// end first: what dispatch's outcome figures (accepted vs rejected, time to close) are computed from. Read
    /// through an index on the closing time, so a day or a week costs what it holds, not what the store holds.
    /// </summary>
    Task<IReadOnlyList<CaseDecision>> DecidedAsync(DateTimeOffset closedFrom, CancellationToken ct = default);
}
