using CitySight.Domain;

namespace CitySight.Inference;

/// <summary>How one model is run: where, with how many threads, and how frames are batched.</summary>
public sealed record DetectorOptions
{
    public ExecutionProvider Provider { get; init; } = ExecutionProvider.Cpu;

    /// <summary>GPU index for CUDA/TensorRT; for OpenVINO 0 = its CPU device, N = GPU.(N-1).</summary>
    public int DeviceId { get; init; }

    /// <summary>Intra-op threads for one run; 0 lets ONNX Runtime choose (all cores).</summary>
    public int Threads { get; init; }

    /// <summary>
    /// Most frames in one run. Only models with a dynamic batch dimension take more than one; for a model fixed at
    /// batch 1 this many runs go in parallel instead. 1 (the default) never waits for company, which is right on a
    /// small CPU where a bigger batch brings no throughput.
    /// </summary>
    public int MaxBatch { get; init; } = 1;

    /// <summary>How long the first frame of a batch may wait for others; zero = take what is there and go.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.Zero;

    /// <summary>Sessions running side by side, each with its own buffers (and <see cref="Threads"/> threads).</summary>
    public int Instances { get; init; } = 1;

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(DeviceId);
        ArgumentOutOfRangeException.ThrowIfNegative(Threads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxBatch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Instances);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxWait, TimeSpan.Zero);
    }
}
