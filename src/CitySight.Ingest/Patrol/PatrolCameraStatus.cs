namespace CitySight.Ingest.Patrol;

/// <summary>One patrolled camera's standing in the rotation, as a consistent copy (health, the admin API).</summary>
public sealed record PatrolCameraStatus(
    string CameraId, bool Visiting, DateTimeOffset? LastVisit, DateTimeOffset DueAt, TimeSpan? LastGap, TimeSpan WorstGap,
    int ConsecutiveFailures, string? Reason);
