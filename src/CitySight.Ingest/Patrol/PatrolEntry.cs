using CitySight.Domain;

namespace CitySight.Ingest.Patrol;

/// <summary>One patrolled camera's standing in the rotation.</summary>
public sealed class PatrolEntry(Camera camera)
{
    public Camera Camera { get; } = camera;
    public DateTimeOffset DueAt { get; internal set; }
    public DateTimeOffset? LastVisit { get; internal set; }
    public TimeSpan? LastGap { get; internal set; }
    public TimeSpan WorstGap { get; internal set; }
    public int ConsecutiveFailures { get; internal set; }
    public string? Reason { get; internal set; }
    public bool Visiting { get; internal set; }
    /// <summary>Taken out of the rotation (removed, disabled or replaced at run time).</summary>
    public bool Removed { get; internal set; }
}
