namespace CitySight.CommandCentre.Api;

/// <summary>
/// Dispatch's outcomes, the figures districts are scored on: cases accepted (closed by dispatch or an operator) and
/// rejected (false alarms), the share of each among those decided, and the time from reported to closed of the accepted
/// ones (median and 90th percentile, nearest rank, minutes). <see cref="ClosedByCitySight"/> counts cases the service
/// closed itself because no camera saw them any more: no one decided them, so they are in neither rate.
/// </summary>
public sealed record OutcomeFigures(
    int Accepted,
    int Rejected,
    int ClosedByCitySight,
    double? AcceptedRate,
    double? RejectedRate,
    double? MedianMinutesToClose,
    double? P90MinutesToClose);
