namespace CitySight.CommandCentre.Api;

/// <summary>
/// One server-sent event of /api/v1/events: <see cref="Kind"/> (also the SSE event name) is ready (the stream is
/// following from <see cref="Sequence"/>), opened, updated or state_changed with the case as it is now.
/// </summary>
public sealed record ConsoleEvent(string Kind, long Sequence, ConsoleCase? Case);
