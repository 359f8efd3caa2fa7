namespace CitySight.Domain;

/// <summary>Where a detection model runs, as an operator names it in the config (models.run[].provider).</summary>
public enum ExecutionProvider
{
    Cpu,
    Cuda,
    TensorRt,
    OpenVino,
}
