using CitySight.Domain;

namespace CitySight.Cases;

/// <summary>One event of the store's feed: its sequence (the consumer's cursor), what happened, and the case.</summary>
public sealed record CaseFeedEvent(long Sequence, CaseFeedKind Kind, Case Case);
