using CitySight.Domain;

namespace CitySight.Ingest.Patrol;

/// <summary>
/// Who to visit next in a patrol (轮巡): the camera whose visit is most overdue, so when the budget is short every
/// camera is late by about the same amount and none starves. A camera's sample interval is the longest it may go
/// between two visits: the plan aims to come back after <see cref="Aim"/> of it, so the wait for a free slot and the
/// visit itself still fit inside. A failing camera backs off, never faster than its interval. Pure state on an
/// explicit clock: the worker owns the time and the concurrency, tests drive it with simulated time.
/// Not thread-safe: the caller serialises access.
/// </summary>
public sealed class PatrolPlan
{
    private readonly PriorityQueue<PatrolEntry, DateTimeOffset> _due = new();
    private readonly List<PatrolEntry> _entries;
    private readonly TimeSpan _maxBackoff;

    /// <summary>Fraction of the interval after which a camera is due again.</summary>
    public const double Aim = 0.8;

    public PatrolPlan(IEnumerable<Camera> cameras, DateTimeOffset start, TimeSpan? maxBackoff = null)
    {
        _maxBackoff = maxBackoff ?? TimeSpan.FromMinutes(10);
        _entries = cameras.Select(c => new PatrolEntry(c)).ToList();
        // Everyone is due at once: the first round visits all cameras as fast as the budget allows.
        foreach (var e in _entries) Schedule(e, start);
    }

    public IReadOnlyList<PatrolEntry> Entries => _entries;

    /// <summary>The entry of camera <paramref name="cameraId"/>, or null.</summary>
    public PatrolEntry? Find(string cameraId) => _entries.Find(e => e.Camera.Id == cameraId);

    /// <summary>A camera joins the rotation at run time, due at once.</summary>
    public PatrolEntry Add(Camera camera, DateTimeOffset now)
    {
        if (Find(camera.Id) is not null) throw new InvalidOperationException($"camera {camera.Id} is already patrolled");
        var e = new PatrolEntry(camera);
        _entries.Add(e);
        Schedule(e, now);
        return e;
    }

    /// <summary>A camera leaves the rotation; a visit of it still running is not scheduled again.</summary>
    public void Remove(PatrolEntry e)
    {
        e.Removed = true;
        _entries.Remove(e);
    }

    /// <summary>When the next visit is due, or null when every camera is being visited.</summary>
    public DateTimeOffset? NextDue
    {
        get
        {
            DropRemoved();
            return _due.TryPeek(out _, out var at) ? at : null;
        }
    }

    /// <summary>Longest time any camera went between two successful visits (the starvation measure).</summary>
    public TimeSpan WorstGap => Entries.Count == 0 ? TimeSpan.Zero : Entries.Max(e => e.WorstGap);

    public long Visits { get; private set; }
    public long Failures { get; private set; }

    /// <summary>Takes the most overdue camera if its visit is due at <paramref name="now"/>.</summary>
    public bool TryTake(DateTimeOffset now, out PatrolEntry entry)
    {
        DropRemoved();
        if (_due.TryPeek(out entry!, out var at) && at <= now)
        {
            _due.Dequeue();
            entry.Visiting = true;
            return true;
        }
        entry = null!;
        return false;
    }

    public void Visited(PatrolEntry e, DateTimeOffset at)
    {
        if (e.Removed) return;
        if (e.LastVisit is { } last && at - last > e.WorstGap) e.WorstGap = at - last;
        e.LastGap = e.LastVisit is { } l ? at - l : null;
        e.LastVisit = at;
        e.ConsecutiveFailures = 0;
        e.Reason = null;
        Visits++;
        Schedule(e, at + e.Camera.SampleInterval * Aim);
    }

    public void Failed(PatrolEntry e, DateTimeOffset at, string reason, bool slow = false)
    {
        if (e.Removed) return;
        e.ConsecutiveFailures++;
        e.Reason = reason;
        Failures++;
        // A one-off failure (a timeout, a dropped connection) is retried soon, within the camera's deadline; repeated
        // failures double from there, capped. Credentials and unknown hosts start at 5 minutes: retrying cannot fix them.
        var first = slow ? TimeSpan.FromMinutes(5) : Min(TimeSpan.FromSeconds(30), e.Camera.SampleInterval * (1 - Aim));
        var backoff = TimeSpan.FromTicks(Math.Min(_maxBackoff.Ticks, first.Ticks << Math.Min(e.ConsecutiveFailures - 1, 16)));
        Schedule(e, at + backoff);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    // Removal is lazy: a removed camera's place in the queue is dropped when it comes to the front.
    private void DropRemoved()
    {
        while (_due.TryPeek(out var e, out _) && e.Removed) _due.Dequeue();
    }

    private void Schedule(PatrolEntry e, DateTimeOffset at)
    {
        e.Visiting = false;
        e.DueAt = at;
        _due.Enqueue(e, at);
    }
}
