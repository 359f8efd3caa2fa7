// The JSON shape of one bench-feed run: records that only make sense together, kept in one file so the report reads top to bottom.

using System.Text.Json.Serialization;

namespace CitySight.Bench;

/// <summary>Latency figures in milliseconds.</summary>
internal sealed record LatencyFigures(int Count, double P50, double P95, double P99, double Max, double Mean);

internal sealed record CommittedCase(string Id, long Sequence);

internal sealed record ConsumerFigures(
    string Name, bool Slow, bool IncludeEvidence, int Received, long Events, int Duplicates, int OutOfOrder, int Missing,
    long FirstSequence, long LastSequence, long AckedCursor, int Acks, double ReceivedPerSecond, LatencyFigures? LatencyMs,
    string? Error, List<string>? CaseIds, List<long>? Sequences);

/// <summary>One phase of the run: the commit-only baseline, live delivery (in-process or gRPC), or a replay of a full store.</summary>
internal sealed record PhaseFigures(
    string Name,
    string Transport,
    bool Live,
    int Consumers,
    int SlowConsumers,
    int Cases,
    double Seconds,
    double CommitsPerSecond,
    LatencyFigures? CommitMs,
    double ReceivedPerSecondPerConsumer,
    double ReceivedPerSecondPerConsumerMean,
    double ReceivedPerSecondTotal,
    double RatioToCommitOnly,
    LatencyFigures? LatencyMs,
    int Lost,
    int Duplicates,
    int OutOfOrder,
    int Acks,
    LatencyFigures? AckMs,
    double CpuPercent,
    double WorkingSetStartMib,
    double PeakWorkingSetMib,
    double PeakManagedHeapMib,
    int? SlowBacklogAtEnd,
    List<ConsumerFigures> ConsumerResults,
    List<CommittedCase>? Committed)
{
    /// <summary>The round this phase ran in (1-based); a replay runs in round 1.</summary>
    public int Round { get; init; } = 1;

    /// <summary>Every fast consumer's commit→receipt latency, ms (live phases): pooled over the rounds for the summary.</summary>
    [JsonIgnore] public double[] RawLatencyMs { get; init; } = [];

    /// <summary>Every ack's round trip, ms: pooled over the rounds for the summary.</summary>
    [JsonIgnore] public double[] RawAckMs { get; init; } = [];
}

/// <summary>A figure measured once per round: the median of the rounds, their range, and each round's value in order.</summary>
internal sealed record Spread(double Median, double Min, double Max, List<double> Values);

/// <summary>One live phase over all the rounds.</summary>
internal sealed record PhaseSummary(
    string Name,
    string Transport,
    int Consumers,
    int SlowConsumers,
    int Rounds,
    Spread CommitsPerSecond,
    Spread? ReceivedPerSecondPerConsumer,
    Spread? ReceivedPerSecondTotal,
    // Each round's received/s per consumer over that round's own commit-only rate; median and range of those.
    Spread? RatioToCommitOnly,
    // Pooled: every fast consumer's latency in every round.
    LatencyFigures? LatencyMs,
    LatencyFigures? AckMs,
    // Summed over the rounds.
    int Lost,
    int Duplicates,
    int OutOfOrder,
    // The fewest cases any fast consumer received in any round.
    int MinReceived,
    double CpuPercentMedian,
    double PeakWorkingSetMib,
    int? SlowBacklogAtEndMax);

/// <summary>One live phase in one round, for the JSON's rounds array.</summary>
internal sealed record RoundPhaseFigures(
    string Name,
    string Transport,
    int SlowConsumers,
    double Seconds,
    double CommitsPerSecond,
    double ReceivedPerSecondPerConsumer,
    double ReceivedPerSecondTotal,
    double RatioToCommitOnly,
    LatencyFigures? LatencyMs,
    int Lost,
    int Duplicates,
    int OutOfOrder,
    double CpuPercent,
    double PeakWorkingSetMib,
    int? SlowBacklogAtEnd);

/// <summary>One round: its phases in the order they ran, and its own commit-only rate (what its ratios are against).</summary>
internal sealed record RoundFigures(int Round, List<string> Order, double CommitOnlyPerSecond, List<RoundPhaseFigures> Phases);

internal sealed record FeedBenchResult(
    string Device,
    int CpuCores,
    string DataFolder,
    string FileSystem,
    int Cases,
    int Consumers,
    int AckEvery,
    bool IncludeEvidence,
    double Rate,
    int EvidenceBytes,
    bool SlowConsumer,
    double SlowDelayMs,
    double CommitOnlyPerSecond,
    double CommitOnlyFirstPerSecond,
    double CommitOnlyLastPerSecond,
    double ReceivedPerSecondPerConsumer,
    double ReceivedPerSecondTotal,
    double Ratio,
    double InProcessRatio,
    LatencyFigures? LatencyMs,
    int Lost,
    int Duplicates,
    int OutOfOrder,
    double? FastP99WithoutSlowMs,
    double? FastP99WithSlowMs,
    double? SlowP99Ratio,
    bool? FastConsumersUnaffected,
    double? PeakWorkingSetWithoutSlowMib,
    double? PeakWorkingSetWithSlowMib,
    int? SlowBacklogAtEnd,
    double PeakWorkingSetMib,
    double ProcessPeakRssMib,
    double TotalSeconds,
    // Rounds of the live phases (the rounds array has one entry per round).
    int RoundCount,
    double CommitOnlyMinPerSecond,
    double CommitOnlyMaxPerSecond,
    double RatioMin,
    double RatioMax,
    double InProcessRatioMin,
    double InProcessRatioMax,
    List<PhaseSummary> PhaseSummaries,
    List<RoundFigures> Rounds,
    List<PhaseFigures> Phases);
