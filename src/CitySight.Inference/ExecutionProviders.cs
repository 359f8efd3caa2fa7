using CitySight.Domain;
using Microsoft.ML.OnnxRuntime;

namespace CitySight.Inference;

/// <summary>What provider a session really got, and why it is not the one asked for when it fell back.</summary>
public sealed record ProviderChoice(ExecutionProvider Requested, ExecutionProvider Running, string OrtName, string? FallbackReason)
{
    public bool FellBack => FallbackReason is not null;
}

/// <summary>
/// Adds the configured execution provider to session options. The NuGet package decides which providers exist:
/// the CPU package (Microsoft.ML.OnnxRuntime, the default here) has only CPU; a GPU build references
/// Microsoft.ML.OnnxRuntime.Gpu (CUDA, TensorRT) or Intel.ML.OnnxRuntime.OpenVino instead — see models/README.md.
/// A provider that is missing or fails to initialise falls back to CPU, and the reason is reported, never hidden.
/// </summary>
public static class ExecutionProviders
{
    public static string OrtName(ExecutionProvider p) => p switch
    {
        ExecutionProvider.Cpu => "CPUExecutionProvider",
        ExecutionProvider.Cuda => "CUDAExecutionProvider",
        ExecutionProvider.TensorRt => "TensorrtExecutionProvider",
        ExecutionProvider.OpenVino => "OpenVINOExecutionProvider",
        _ => throw new ArgumentOutOfRangeException(nameof(p), p, null),
    };

    /// <summary>Provider names this ONNX Runtime build has.</summary>
    public static IReadOnlyList<string> Available() => OrtEnv.Instance().GetAvailableProviders();

    /// <param name="available">The build's providers; tests pass their own list to exercise the fallback.</param>
    public static ProviderChoice Apply(SessionOptions options, ExecutionProvider requested, int deviceId, IReadOnlyList<string>? available = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (requested == ExecutionProvider.Cpu)
            return new(requested, ExecutionProvider.Cpu, OrtName(ExecutionProvider.Cpu), null);

        available ??= Available();
        var name = OrtName(requested);
        if (!available.Contains(name))
        {
            return Fallback(requested,
                $"{name} is not in this ONNX Runtime build (it has: {string.Join(", ", available)}); " +
                $"build with -p:OnnxRuntimeFlavor={(requested == ExecutionProvider.OpenVino ? "openvino" : "gpu")} to get it");
        }

        try
        {
            switch (requested)
            {
                case ExecutionProvider.Cuda:
                    options.AppendExecutionProvider_CUDA(deviceId);
                    break;
                case ExecutionProvider.TensorRt:
                    options.AppendExecutionProvider_Tensorrt(deviceId);
                    // Nodes TensorRT cannot take run on CUDA rather than on the CPU.
                    if (available.Contains(OrtName(ExecutionProvider.Cuda))) options.AppendExecutionProvider_CUDA(deviceId);
                    break;
                case ExecutionProvider.OpenVino:
                    options.AppendExecutionProvider_OpenVINO(deviceId == 0 ? "CPU" : $"GPU.{deviceId - 1}");
                    break;
            }
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            return Fallback(requested, $"{name} failed to start: {ex.Message}");
        }
        return new(requested, requested, name, null);
    }

    private static ProviderChoice Fallback(ExecutionProvider requested, string reason) =>
        new(requested, ExecutionProvider.Cpu, OrtName(ExecutionProvider.Cpu), reason + "; running on CPU instead");
}
