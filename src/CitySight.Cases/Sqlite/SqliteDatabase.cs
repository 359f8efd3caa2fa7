using Microsoft.Data.Sqlite;

namespace CitySight.Cases.Sqlite;

/// <summary>
/// The one SQLite file every part of the store shares: its pooled connections, each set to synchronous=FULL, and the
/// one thread that runs every write (<see cref="StoreWriter"/>; WAL lets readers run beside it on their own connections).
/// </summary>
internal sealed class SqliteDatabase
{
    private readonly string _connectionString;
    private int _disposed;

    /// <summary>Opens (or creates) the file in WAL mode, at the newest schema.</summary>
    public SqliteDatabase(string path)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            // Microsoft.Data.Sqlite retries SQLITE_BUSY up to this many seconds (e.g. during a WAL checkpoint).
            DefaultTimeout = 30,
        }.ToString();

        try
        {
            using var conn = Connect();
            Execute(conn, "PRAGMA journal_mode=WAL;");
            // A damaged file found now is an operator's job with a clear message, not a stream of failed commits later.
            if (QuickCheck(conn) is { } problem) throw new InvalidDataException(Damaged(path, problem));
            SqliteSchema.CreateOrMigrate(conn);
        }
        catch (SqliteException ex) when (SqliteFaults.IsDamage(ex))
        {
            ReleaseFile();
            throw new InvalidDataException(Damaged(path, ex.Message), ex);
        }
        catch (InvalidDataException)
        {
            ReleaseFile();
            throw;
        }
        Writer = new StoreWriter("citysight-store-writer");
    }

    /// <summary>PRAGMA quick_check (the b-trees and their pages, not index contents: seconds even for a large file); null when "ok".</summary>
    private static string? QuickCheck(SqliteConnection conn)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "PRAGMA quick_check(5);";
        var lines = new List<string>();
        using (var r = cmd.ExecuteReader())
            while (r.Read()) lines.Add(r.GetString(0));
        return lines is ["ok"] ? null : "quick_check: " + string.Join("; ", lines);
    }

    private static string Damaged(string path, string detail) =>
        $"The case database {path} is damaged or not a SQLite database ({detail}). CitySight does not start on it. " +
        $"Stop the service, move {path} (with its -wal and -shm files, if any) aside and keep it (`sqlite3 <file> .recover` " +
        "may save its cases), then start again: a new empty database is created (delivery consumers then start from sequence 0).";

    public string Path { get; }

    /// <summary>Runs every write, one at a time: a check made in a write sees every commit before it.</summary>
    public StoreWriter Writer { get; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    public void ThrowIfDisposed()
    {
        if (IsDisposed) throw new ObjectDisposedException(nameof(SqliteCaseStore));
    }

    public SqliteConnection Connect()
    {
        ThrowIfDisposed();
        var conn = new SqliteConnection(_connectionString);
        conn.Open();
        // Per connection, so set on every (possibly pooled) open. FULL: a commit survives power loss, not just a crash.
        Execute(conn, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
        return conn;
    }

    public static void Execute(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public static T Scalar<T>(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return (T)Convert.ChangeType(cmd.ExecuteScalar()!, typeof(T));
    }

    /// <summary>From now on no connection is opened; false when it was closed already.</summary>
    public bool TryClose() => Interlocked.Exchange(ref _disposed, 1) == 0;

    /// <summary>Closes the pooled handles so the file is released (tests reopen it; an operator may copy it).</summary>
    public void ReleaseFile()
    {
        using var conn = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(conn);
    }
}
