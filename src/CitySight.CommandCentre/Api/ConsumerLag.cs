namespace CitySight.CommandCentre.Api;

/// <summary>
/// One delivery consumer's cursor against the feed's head: how many events it has not acknowledged yet
/// (<see cref="Behind"/>), and when it last acknowledged (seconds ago).
/// </summary>
public sealed record ConsumerLag(string Consumer, long Acked, long Behind, DateTimeOffset AckedAt, double SecondsSinceAck);
