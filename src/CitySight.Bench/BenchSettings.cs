using CitySight.Inference;

namespace CitySight.Bench;

/// <summary>What one bench measures: the model, the source and how the model runs (the batch size is given per run).</summary>
internal sealed record BenchSettings
{
    public required ModelSpec Spec { get; init; }
    public required string ModelPath { get; init; }
    public required BenchSource Source { get; init; }
    public int Streams { get; init; } = 4;

    /// <summary>Provider, device, threads and instances; MaxBatch and MaxWait are set per batch size.</summary>
    public required DetectorOptions Options { get; init; }

    /// <summary>Null: <see cref="InferenceBench.DefaultMaxWait"/>.</summary>
    public TimeSpan? MaxWait { get; init; }

    /// <summary>Frames measured per batch size, after the warm-up.</summary>
    public int Frames { get; init; } = 200;

    public int MaxFrameWidth { get; init; }
    public int MaxFrameHeight { get; init; }

    /// <summary>A source that delivers no frame for this long fails the bench.</summary>
    public TimeSpan StallLimit { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The warm-up lasts at least this long as well as <see cref="InferenceBench.WarmupFrames"/> frames: JIT tiering, ONNX
    /// Runtime's first runs and the decoders' start-up otherwise show in the first batch size measured (seen: -25 %).
    /// </summary>
    public TimeSpan WarmupTime { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Pipeline and bare measurements alternate this many times (null: <see cref="InferenceBench.DefaultRounds"/>), so that
    /// load from other processes and clock changes hit both sides alike instead of whichever ran first.
    /// </summary>
    public int? Rounds { get; init; }
}
