using Microsoft.Extensions.Logging;

namespace CitySight.Bench;

/// <summary>
/// The log of the stage and the sources during a run: nothing is printed (the progress display owns the terminal), but
/// the last warning explains a stall, and a failed detection ends the bench at once instead of being skipped.
/// </summary>
internal sealed class BenchLog : ILogger
{
    private string? _lastProblem;
    private string? _detectionFailure;

    public string? LastProblem => Volatile.Read(ref _lastProblem);
    public string? DetectionFailure => Volatile.Read(ref _detectionFailure);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel < LogLevel.Warning) return;
        var message = formatter(state, exception) + (exception is null ? "" : $": {exception.Message}");
        Volatile.Write(ref _lastProblem, message);
        if (logLevel >= LogLevel.Error && message.StartsWith("Detection failed", StringComparison.Ordinal))
            Interlocked.CompareExchange(ref _detectionFailure, message, null);
    }
}
