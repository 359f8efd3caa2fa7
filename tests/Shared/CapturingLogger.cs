using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CitySight.Tests;

/// <summary>
/// Keeps every log entry, formatted as "Level: category: message | key=value, … | exception", for assertions (that a
/// warning was given, that no secret appears anywhere). A logger for one class, or a provider for a whole host: the
/// loggers it creates all write into the same <see cref="Lines"/>.
/// </summary>
public class CapturingLogger : ILogger, ILoggerProvider
{
    private readonly string? _category;

    public CapturingLogger() : this(new ConcurrentQueue<string>(), null) { }

    private CapturingLogger(ConcurrentQueue<string> lines, string? category)
    {
        Lines = lines;
        _category = category;
    }

    public ConcurrentQueue<string> Lines { get; }

    public string All => string.Join(Environment.NewLine, Lines);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var text = _category is null ? $"{logLevel}: {formatter(state, exception)}" : $"{logLevel}: {_category}: {formatter(state, exception)}";
        if (state is IEnumerable<KeyValuePair<string, object?>> values)
            text += " | " + string.Join(", ", values.Select(kv => $"{kv.Key}={kv.Value}"));
        if (exception is not null) text += " | " + exception;
        Lines.Enqueue(text);
    }

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(Lines, categoryName);

    public void Dispose() { }
}

/// <summary>A <see cref="CapturingLogger"/> for the class that asks for an <see cref="ILogger{T}"/>.</summary>
public sealed class CapturingLogger<T> : CapturingLogger, ILogger<T>;
