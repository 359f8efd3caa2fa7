using CitySight.Domain;

namespace CitySight.Bench;

/// <summary>What `citysight bench` was asked to measure, its arguments parsed and checked; null: the config's own setting.</summary>
public sealed record InferenceBenchRequest
{
    /// <summary>A video file, a folder of images (or one image), or an RTSP URL ("{i}" becomes the stream number).</summary>
    public required string Source { get; init; }
    public int Streams { get; init; } = 4;
    public required IReadOnlyList<int> Batches { get; init; }
    public ExecutionProvider? Provider { get; init; }
    public int? Device { get; init; }
    public string? Model { get; init; }
    public int? Threads { get; init; }
    public int Instances { get; init; } = 1;
    public TimeSpan? MaxWait { get; init; }
    public int Frames { get; init; } = 200;
    public int? Rounds { get; init; }
    public string? Json { get; init; }
    public string? Chart { get; init; }
}
