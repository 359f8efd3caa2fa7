namespace CitySight.Ingest;

/// <summary>
/// The environment an ffmpeg child gets: a few named variables, nothing else of ours. The service's environment may hold
/// secrets (connection strings, keys), and /proc/PID/environ of a child is as readable as its command line to whoever
/// may inspect that process.
/// </summary>
internal static class ChildEnvironment
{
    /// <summary>
    /// Passed on when set: where programs and libraries are, and the hardware decoders' selectors (VA-API driver, CUDA
    /// devices), which say which device to use and hold nothing secret.
    /// </summary>
    internal static readonly string[] Inherited =
        ["PATH", "LD_LIBRARY_PATH", "LIBVA_DRIVER_NAME", "LIBVA_DRIVERS_PATH", "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER"];

    public static void Apply(IDictionary<string, string?> environment)
    {
        var kept = new List<(string, string)>();
        foreach (var name in Inherited)
            if (environment.TryGetValue(name, out var value) && value is not null) kept.Add((name, value));
        environment.Clear();
        foreach (var (name, value) in kept) environment[name] = value;
        // The C locale: error texts such as "Connection refused" (strerror) are classified in English, whatever the host's language.
        environment["LC_ALL"] = "C";
    }
}
