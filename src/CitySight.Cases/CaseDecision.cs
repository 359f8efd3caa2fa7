using CitySight.Domain;

namespace CitySight.Cases;

/// <summary>
/// One case that reached its end (<see cref="ICaseRecords.DecidedAsync"/>): its type and group, closed or rejected,
/// when it was reported and when it ended. <paramref name="ClosedByCitySight"/> is a case the rules closed because no
/// camera saw it any more (<see cref="ICaseSink.CloseGoneAsync"/>), not a decision of dispatch or an operator.
/// </summary>
public sealed record CaseDecision(string CaseType, string GroupId, CaseState State, DateTimeOffset ReportedAt, DateTimeOffset ClosedAt,
    bool ClosedByCitySight)
{
    /// <summary>From reported to closed or rejected.</summary>
    public TimeSpan TimeToClose => ClosedAt - ReportedAt;
}
