using CitySight.Domain;

namespace CitySight.Ingest;

/// <summary>
/// How ingest supervises many cameras on this machine (the ingest section): the stream budget, the patrol's pace, frame
/// size limits. The decoders' options are built from it here, in one place.
/// </summary>
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
    /// <summary>The largest picture decoded and accepted, in pixels (ffmpeg's -max_pixels); beyond it a camera fails.</summary>
    public long MaxFramePixels { get; init; } = InputLimits.DefaultMaxFramePixels;
    /// <inheritdoc cref="VideoReadOptions.RtspsCaFile"/>
    public string? RtspsCaFile { get; init; }

    /// <summary>The defaults (what an unset ingest section means).</summary>
    public static IngestOptions Defaults { get; } = new();

    /// <summary>The decoder options of a continuous stream.</summary>
    public CameraSourceOptions SourceOptions() => new()
    {
        MaxFrameWidth = MaxFrameWidth, MaxFrameHeight = MaxFrameHeight, MaxFramePixels = MaxFramePixels, RtspsCaFile = RtspsCaFile,
    };

    /// <summary>The options of one patrol visit to this camera (its decoder and group, this machine's limits).</summary>
    public SnapshotOptions SnapshotOptionsFor(Camera camera) => SnapshotOptions.For(camera) with
    {
        Timeout = SnapshotTimeout,
        MaxFrameWidth = MaxFrameWidth,
        MaxFrameHeight = MaxFrameHeight,
        MaxFramePixels = MaxFramePixels,
        RtspsCaFile = RtspsCaFile,
    };
}
