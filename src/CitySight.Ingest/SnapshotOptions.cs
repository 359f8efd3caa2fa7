using CitySight.Domain;

namespace CitySight.Ingest;

/// <summary>Options for one <see cref="VideoReader.SnapshotAsync"/> (a patrol visit: connect, one keyframe, disconnect).</summary>
public sealed record SnapshotOptions
{
    /// <summary>From start to frame in hand; beyond it the snapshot fails with <see cref="StreamFailureKind.Timeout"/>.</summary>
    public TimeSpan Timeout { get; init; } = IngestOptions.Defaults.SnapshotTimeout;

    public DecoderKind Decoder { get; init; } = DecoderKind.Cpu;

    /// <inheritdoc cref="VideoReadOptions.DecoderDevice"/>
    public string? DecoderDevice { get; init; }

    /// <summary>The codec if known (from a previous visit): lets <see cref="DecoderKind.Qsv"/> name its decoder.</summary>
    public string? Codec { get; init; }

    /// <summary>
    /// Software decoder threads. 1 by default: one keyframe gains nothing from more, and frame threading would hold the
    /// first picture back by a frame per extra thread.
    /// </summary>
    public int DecoderThreads { get; init; } = 1;

    /// <inheritdoc cref="VideoReadOptions.MaxFrameWidth"/>
    public int MaxFrameWidth { get; init; }

    /// <inheritdoc cref="VideoReadOptions.MaxFrameWidth"/>
    public int MaxFrameHeight { get; init; }

    /// <inheritdoc cref="VideoReadOptions.MaxFramePixels"/>
    public long MaxFramePixels { get; init; }

    /// <summary>The Sequence given to the frame (a patrolled camera keeps counting across visits).</summary>
    public long Sequence { get; init; }

    /// <summary>The camera's group, for metric labels.</summary>
    public string GroupId { get; init; } = "";

    /// <inheritdoc cref="VideoReadOptions.RtspsCaFile"/>
    public string? RtspsCaFile { get; init; }

    public string FfmpegPath { get; init; } = "ffmpeg";

    /// <summary>Options for a configured camera (its decoder and group).</summary>
    public static SnapshotOptions For(Camera camera)
    {
        ArgumentNullException.ThrowIfNull(camera);
        return new() { Decoder = camera.Decoder, GroupId = camera.GroupId };
    }
}
