namespace CitySight.Bench;

/// <summary>
/// The JSON of `bench-feed --idle-subscribers N [--ack-flood]` (issue 14): case-commit latency with no subscriber, then
/// with N idle gRPC subscribers and a flood of acks, in one run on one store; memory per idle subscriber; lost and
/// duplicated events.
/// </summary>
internal sealed record FeedLoadResult(
    string Device,
    int Cores,
    string DataFolder,
    string FileSystem,
    int CasesPerPhase,
    double Rate,
    int EvidenceBytes,
    int IdleSubscribers,
    int Channels,
    int AckFloodClients,
    int AckFloodInFlightPerClient,
    LatencyFigures? QuietCommitMs,
    LatencyFigures? LoadedCommitMs,
    double? P99Ratio,
    double GoalRatio,
    bool? GoalMet,
    double QuietCpuPercent,
    double LoadedCpuPercent,
    long Acks,
    double AcksPerSecond,
    long AckCommits,
    LatencyFigures? AckMs,
    string? AckFloodError,
    double SubscribeSeconds,
    double ManagedBytesPerSubscriber,
    double ResidentBytesPerSubscriber,
    double ManagedMibBefore,
    double ManagedMibAfter,
    double ResidentMibBefore,
    double ResidentMibAfter,
    int SubscribersFailed,
    string? FirstError,
    long Lost,
    long Duplicates,
    double TotalSeconds);
