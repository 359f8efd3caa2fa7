namespace CitySight.Ingest;

public enum CameraState
{
    /// <summary>Opening the stream (first time, after a failure, or switching decode mode).</summary>
    Connecting,
    /// <summary>Frames are flowing.</summary>
    Streaming,
    /// <summary>The last attempt failed or the stream ended; waiting to retry (see Reason).</summary>
    Offline,
    /// <summary>Cancelled, the file ended (no loop), or the output channel was closed.</summary>
    Stopped,
}

/// <summary>A snapshot of one camera's ingest. Reason never contains a password.</summary>
public sealed record CameraStatus
{
    public required string CameraId { get; init; }
    public CameraState State { get; init; }
    public string? Reason { get; init; }

    /// <summary>Wall-clock time the camera entered <see cref="State"/>.</summary>
    public DateTimeOffset Since { get; init; }

    public DateTimeOffset? LastFrameCaptureTime { get; init; }

    /// <summary>Frames decoded and handed on (after sampling).</summary>
    public long FramesDecoded { get; init; }

    /// <summary>Connection attempts after the first one (planned decode-mode switches are not counted).</summary>
    public long Reconnects { get; init; }

    /// <summary>Whether the current (or last) connection decodes keyframes only.</summary>
    public bool KeyframesOnly { get; init; }

    /// <summary>The stream's GOP if known (probed from a file, or measured on the live stream).</summary>
    public TimeSpan? KeyframeInterval { get; init; }
}
