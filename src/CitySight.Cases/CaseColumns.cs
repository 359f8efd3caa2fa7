using System.Data.Common;
using CitySight.Domain;

namespace CitySight.Cases;

/// <summary>
/// The case row's columns as both backends select them (0..26 the case, 28..34 its lifecycle; 27 is each backend's own:
/// SQLite's picture path, PostgreSQL's has_evidence), read into a <see cref="Case"/> once for both.
/// </summary>
internal static class CaseColumns
{
    /// <summary>The case in the reader's current row, with <paramref name="evidence"/> as its best view.</summary>
    public static Case Read(DbDataReader r, byte[] evidence) => new()
    {
        Id = r.GetString(0),
        Sequence = r.IsDBNull(1) ? 0 : r.GetInt64(1),
        CaseType = r.GetString(2),
        CameraId = r.GetString(3),
        GroupId = r.GetString(4),
        CaseTypeCode = r.GetString(5),
        CaseTypeNameZh = r.GetString(6),
        CaseTypeNameEn = r.GetString(7),
        District = r.GetString(8),
        Street = r.GetString(9),
        Grid = r.GetString(10),
        ResponsibleUnit = r.GetString(11),
        Zone = r.GetString(12),
        Latitude = r.GetDouble(13),
        Longitude = r.GetDouble(14),
        FirstSeen = FromTicks(r.GetInt64(15), Minutes(r, 16)),
        LastSeen = FromTicks(r.GetInt64(17), Minutes(r, 18)),
        Confidence = (float)r.GetDouble(19),
        Box = new Box((float)r.GetDouble(20), (float)r.GetDouble(21), (float)r.GetDouble(22), (float)r.GetDouble(23)),
        ImageWidth = r.GetInt32(24),
        ImageHeight = r.GetInt32(25),
        ClassName = r.GetString(26),
        Evidence = evidence,
        State = (CaseState)r.GetInt32(28),
        ReportedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(29)),
        AcknowledgedAt = r.IsDBNull(30) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(30)),
        ClosedAt = r.IsDBNull(31) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(31)),
        StateNote = r.GetString(32),
        RaisedAt = r.IsDBNull(33) ? null : FromTicks(r.GetInt64(33), Minutes(r, 34)),
    };

    // SQLite keeps the offset as a 64-bit integer, PostgreSQL as a 32-bit one.
    private static long Minutes(DbDataReader r, int ordinal) => Convert.ToInt64(r.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);

    private static DateTimeOffset FromTicks(long utcTicks, long offsetMinutes) =>
        new DateTimeOffset(utcTicks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(offsetMinutes));
}
