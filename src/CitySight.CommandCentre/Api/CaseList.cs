namespace CitySight.CommandCentre.Api;

/// <summary>
/// A page of cases, newest first, and the feed's head when it was read: the page follows /api/v1/events from there,
/// so nothing committed in between is missed.
/// </summary>
public sealed record CaseList(IReadOnlyList<ConsoleCase> Cases, long Head);
