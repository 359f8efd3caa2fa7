namespace CitySight.Bench;

/// <summary>A bench input that cannot be used, or a model that cannot run: one line for the user, exit code 2.</summary>
public sealed class BenchException(string message) : Exception(message);
