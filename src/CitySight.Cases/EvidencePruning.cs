namespace CitySight.Cases;

/// <summary>What one evidence retention pass did.</summary>
/// <param name="Cases">Cases that lost pictures.</param>
/// <param name="BytesFreed">Bytes deleted.</param>
/// <param name="BytesKept">What the evidence folder holds afterwards (may exceed the limit when only open cases' proof is left).</param>
public readonly record struct EvidencePruning(int Cases, long BytesFreed, long BytesKept);
