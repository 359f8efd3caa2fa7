using CitySight.Inference;

namespace CitySight.Configuration;

/// <summary>One model to run and how: one entry of models.run (the manifest entry's name, and its detector's options).</summary>
public sealed record ModelRun
{
    /// <summary>Name of the entry in the model manifest.</summary>
    public required string Model { get; init; }
    /// <summary>Provider, threads, batching and instances, as the detector takes them.</summary>
    public DetectorOptions Detector { get; init; } = new();
}
