namespace CitySight.Ingest;

/// <summary>A camera's ingest state. New members are added at the end: the numbers of the old ones stay.</summary>
public enum CameraState
{
    /// <summary>Opening the stream (first time, after a failure, or switching decode mode).</summary>
    Connecting,
    /// <summary>Frames are flowing.</summary>
    Streaming,
    /// <summary>The last attempt failed or the stream ended; waiting to retry at <see cref="CameraStatus.NextAttemptAt"/> (see Reason).</summary>
    Offline,
    /// <summary>Cancelled, the file ended (no loop), or the output channel was closed.</summary>
    Stopped,
    /// <summary>
    /// The camera accepted the connection, or was streaming, but frames stopped coming for the stall timeout: ffmpeg was
    /// killed and the stream is restarted at <see cref="CameraStatus.NextAttemptAt"/>.
    /// </summary>
    Stalled,
    /// <summary>The camera is disabled in the configuration: never connected.</summary>
    Disabled,
}

/// <summary>A snapshot of one camera's ingest. Reason never contains a password.</summary>
public sealed record CameraStatus
{
    public required string CameraId { get; init; }
    public CameraState State { get; init; }
    public string? Reason { get; init; }

    /// <summary>Wall-clock time the camera entered <see cref="State"/>.</summary>
    public DateTimeOffset Since { get; init; }

    /// <summary>Offline or Stalled: when the next connection attempt is due. Null in every other state.</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }

    /// <summary>The kind of the last failure (kept while reconnecting; cleared once frames flow again).</summary>
    public StreamFailureKind? LastFailure { get; init; }

    /// <summary>The last frame's capture time (stream clock: for a file, relative to its last-write time).</summary>
    public DateTimeOffset? LastFrameCaptureTime { get; init; }

    /// <summary>Wall-clock time the last frame arrived.</summary>
    public DateTimeOffset? LastFrameAt { get; init; }

    /// <summary>Frames decoded and handed on (after sampling).</summary>
    public long FramesDecoded { get; init; }

    /// <summary>Frames decoded and handed on per second, over the last 10 s or so; null until that long has passed since the first frame.</summary>
    public double? FramesPerSecond { get; init; }

    /// <summary>Connection attempts after the first one (planned decode-mode switches are not counted).</summary>
    public long Reconnects { get; init; }

    /// <summary>Whether the current (or last) connection decodes keyframes only.</summary>
    public bool KeyframesOnly { get; init; }

    /// <summary>The stream's GOP if known (probed from a file, or measured on the live stream).</summary>
    public TimeSpan? KeyframeInterval { get; init; }

    /// <summary>How long ago the last frame arrived; null if none has.</summary>
    public TimeSpan? LastFrameAge(DateTimeOffset now) => LastFrameAt is { } t ? now - t : null;

    /// <summary>How long until the next attempt (zero if overdue); null when none is scheduled.</summary>
    public TimeSpan? UntilNextAttempt(DateTimeOffset now) =>
        NextAttemptAt is { } t ? (t > now ? t - now : TimeSpan.Zero) : null;
}
