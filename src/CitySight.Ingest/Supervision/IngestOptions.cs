namespace CitySight.Ingest;

/// <summary>How ingest supervises many cameras on this machine: the stream budget, the patrol's pace, frame size limits.</summary>
public sealed record IngestOptions
{
    /// <summary>Concurrent continuous streams this machine holds; continuous cameras beyond it are patrolled instead.</summary>
    public int MaxStreams { get; init; } = 256;
    /// <summary>Patrol visits (connect, one frame, disconnect) in flight at once.</summary>
    public int PatrolConcurrency { get; init; } = 8;
    /// <summary>A patrol visit that yields no frame within this is a failure.</summary>
    public TimeSpan SnapshotTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Frames larger than this are scaled down in the decoder (aspect kept); 0 = no limit.</summary>
    public int MaxFrameWidth { get; init; }
    public int MaxFrameHeight { get; init; }
}
