using Microsoft.Data.Sqlite;

namespace CitySight.Cases.Sqlite;

/// <summary>
/// SQLite errors that come from the storage under the database, not from what was written: raised as
/// <see cref="IOException"/> so whoever writes cases (the case raiser) waits and retries instead of dropping them.
/// </summary>
internal static class SqliteFaults
{
    private const int Busy = 5, ReadOnly = 8, IoError = 10, Corrupt = 11, Full = 13, CantOpen = 14, NotADatabase = 26;

    public static bool IsStorage(SqliteException ex) =>
        ex.SqliteErrorCode is Busy or ReadOnly or IoError or Corrupt or Full or CantOpen or NotADatabase;

    /// <summary>Whether the file itself is damaged (as opposed to the disk being full or read-only).</summary>
    public static bool IsDamage(SqliteException ex) => ex.SqliteErrorCode is Corrupt or NotADatabase;

    public static IOException AsIo(SqliteException ex, string path) => new($"case database {path} cannot be written: {ex.Message}", ex);
}
