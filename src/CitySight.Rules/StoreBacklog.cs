using CitySight.Domain;

namespace CitySight.Rules;

/// <summary>
/// What the case-raising stage has decided but the case sink has not yet taken: new cases in the order raised (with their
/// pictures), the newest sighting of each case (merged: latest last seen, highest confidence, latest better picture),
/// and closures of cases gone. Written back in that order, so a case is opened before its sightings and its closure;
/// those of cases already stored need not wait for a new case the store refuses (e.g. below its picture reserve).
/// Also the retry clock: after a storage fault the next attempt waits, doubling from <see cref="FirstRetryDelay"/> to
/// <see cref="MaxRetryDelay"/> on the wall clock. Used from the stage's one loop only.
/// </summary>
internal sealed class StoreBacklog(TimeProvider time)
{
    /// <summary>1 s: a transient I/O error (a busy disk, a checkpoint) clears within a frame or two.</summary>
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>30 s: a full or read-only disk needs an operator; one failed write every 30 s costs nothing and a freed disk is used within half a minute.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly List<Case> _opens = [];
    private readonly HashSet<string> _opening = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PendingSighting> _sightings = new(StringComparer.Ordinal);
    private readonly List<string> _sightingOrder = [];
    private readonly List<GoneCase> _closes = [];
    private TimeSpan _delay = TimeSpan.Zero;
    private DateTimeOffset _nextAttempt = DateTimeOffset.MinValue;

    /// <summary>A sighting not yet written: what the sink's UpdateSightingAsync takes.</summary>
    public sealed record PendingSighting(string CaseId, DateTimeOffset LastSeen, float Confidence, byte[]? Evidence, byte[]? Crop);

    public bool IsEmpty => _opens.Count == 0 && _sightings.Count == 0 && _closes.Count == 0;

    /// <summary>New cases not yet stored.</summary>
    public int WaitingCases => _opens.Count;

    /// <summary>Everything not yet written (cases, sightings, closures).</summary>
    public int Count => _opens.Count + _sightings.Count + _closes.Count;

    /// <summary>No fault since the last success, or the backoff after one has run out: time to write.</summary>
    public bool IsDue => _delay == TimeSpan.Zero || time.GetUtcNow() >= _nextAttempt;

    /// <summary>When the next attempt is due (MinValue when no fault is pending).</summary>
    public DateTimeOffset NextAttempt => _delay == TimeSpan.Zero ? DateTimeOffset.MinValue : _nextAttempt;

    public void AddOpen(Case c)
    {
        _opens.Add(c);
        _opening.Add(c.Id);
    }

    /// <summary>Is this case's opening still waiting? Then its sightings and closure wait behind it.</summary>
    public bool IsOpening(string caseId) => _opening.Contains(caseId);

    public void AddSighting(string caseId, DateTimeOffset lastSeen, float confidence, byte[]? evidence, byte[]? crop)
    {
        if (_sightings.TryGetValue(caseId, out var had))
        {
            _sightings[caseId] = new PendingSighting(caseId,
                lastSeen > had.LastSeen ? lastSeen : had.LastSeen,
                Math.Max(confidence, had.Confidence),
                // Each better picture beat the one before it: the latest is the best.
                evidence ?? had.Evidence,
                evidence is not null ? crop : had.Crop);
            return;
        }
        _sightings.Add(caseId, new PendingSighting(caseId, lastSeen, confidence, evidence, crop));
        _sightingOrder.Add(caseId);
    }

    public void AddClose(GoneCase gone) => _closes.Add(gone);

    public Case? PeekOpen() => _opens.Count > 0 ? _opens[0] : null;

    public void RemoveOpen()
    {
        _opening.Remove(_opens[0].Id);
        _opens.RemoveAt(0);
    }

    /// <summary>The sightings waiting, oldest first (a copy: remove each as it is written).</summary>
    public PendingSighting[] Sightings() => _sightingOrder.Select(id => _sightings[id]).ToArray();

    public void RemoveSighting(string caseId)
    {
        if (_sightings.Remove(caseId)) _sightingOrder.Remove(caseId);
    }

    /// <summary>The closures waiting, oldest first (a copy).</summary>
    public GoneCase[] Closes() => [.. _closes];

    public void RemoveClose(GoneCase gone) => _closes.Remove(gone);

    /// <summary>A write failed for a storage reason: wait longer before the next try.</summary>
    public void Failed()
    {
        _delay = _delay == TimeSpan.Zero ? FirstRetryDelay : TimeSpan.FromTicks(Math.Min(_delay.Ticks * 2, MaxRetryDelay.Ticks));
        _nextAttempt = time.GetUtcNow() + _delay;
    }

    /// <summary>Everything was written: the next fault starts the backoff afresh.</summary>
    public void Succeeded() => _delay = TimeSpan.Zero;
}
