using CitySight.Domain;

namespace CitySight.Cases;

/// <summary>
/// One cell of a count of cases (<see cref="ICaseRecords.CountAsync"/>): how many cases of one type, in one group, are
/// in one state, with the type's names as the type's newest case has them (for the page's labels).
/// </summary>
public sealed record CaseCount(CaseState State, string CaseType, string GroupId, int Count, string TypeNameZh, string TypeNameEn);
