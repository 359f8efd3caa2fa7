namespace CitySight.Ingest.Patrol;

/// <summary>A patrolled camera's health as published (MQTT's retained status).</summary>
public enum PatrolHealth
{
    /// <summary>Its last visit returned a frame.</summary>
    Patrolled,
    /// <summary>Its last visit failed (the reason says why).</summary>
    Offline,
    /// <summary>Taken out of the rotation with the admin API.</summary>
    Disabled,
    /// <summary>Taken out of the rotation by a reload (removed, or now streamed).</summary>
    Stopped,
}
