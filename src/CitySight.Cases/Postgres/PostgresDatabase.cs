using Npgsql;
using NpgsqlTypes;

namespace CitySight.Cases.Postgres;

/// <summary>
/// One PostgreSQL database shared by every node of a cluster: the connection pool (an <see cref="NpgsqlDataSource"/>),
/// the store's name for messages (host, port and database: never the connection string, which may hold a password),
/// and the mapping of storage faults to <see cref="IOException"/>.
/// </summary>
internal sealed class PostgresDatabase : IDisposable
{
    private readonly NpgsqlDataSource _source;
    private int _closed;

    public PostgresDatabase(string connectionString, string nodeId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            // The parser's message may quote the string: say only that it is malformed.
            throw new ArgumentException("the PostgreSQL connection string is not valid (not shown: it may hold a password)", nameof(connectionString));
        }
        // Neither the password nor anything else of the string is ever logged or put in an exception message.
        Name = $"PostgreSQL case store {builder.Host}:{builder.Port}/{builder.Database}";
        NodeId = nodeId;
        if (string.IsNullOrEmpty(builder.ApplicationName)) builder.ApplicationName = $"citysight-{nodeId}";
        _source = NpgsqlDataSource.Create(builder.ConnectionString);
        ListenConnectionString = new NpgsqlConnectionStringBuilder(builder.ConnectionString)
        {
            ApplicationName = ListenApplicationName(nodeId),
            Pooling = false,
            KeepAlive = 5,
        }.ConnectionString;
    }

    /// <summary>How the store is named in messages: host, port and database only.</summary>
    public string Name { get; }

    public string NodeId { get; }

    /// <summary>For the dedicated LISTEN connection: not pooled, named so an operator (or a test) can find it.</summary>
    public string ListenConnectionString { get; }

    /// <summary>The application_name of a node's LISTEN connection (pg_stat_activity).</summary>
    public static string ListenApplicationName(string nodeId) => $"citysight-listen-{nodeId}";

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsClosed, typeof(PostgresCaseStore));

    public async ValueTask<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        ThrowIfDisposed();
        try
        {
            return await _source.OpenConnectionAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // Whatever refuses a connection (down, unreachable, not accepting connections, out of slots) is the store unavailable.
            throw AsIo(ex);
        }
    }

    public NpgsqlConnection Open()
    {
        ThrowIfDisposed();
        try
        {
            return _source.OpenConnection();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw AsIo(ex);
        }
    }

    /// <summary>
    /// Errors of the server or the way to it, not of what was written: the server unreachable or gone (class 08, 57),
    /// out of disk or memory (53), an operating-system or internal error (58, XX), a broken socket or timeout.
    /// Whoever writes cases waits and retries on <see cref="IOException"/> instead of dropping them.
    /// </summary>
    public static bool IsStorage(Exception ex) => ex switch
    {
        PostgresException pg => pg.SqlState.Length >= 2 && pg.SqlState[..2] is "08" or "53" or "57" or "58" or "XX",
        NpgsqlException => true,
        TimeoutException => true,
        _ => false,
    };

    public IOException AsIo(Exception ex) =>
        new($"{Name} (node {NodeId}) cannot be reached or written: {(ex is PostgresException pg ? pg.MessageText : ex.Message)}", ex);

    public static NpgsqlParameter Param(string name, NpgsqlDbType type, object? value) =>
        new(name, type) { Value = value ?? DBNull.Value };

    /// <summary>Marks the store closed; false when it already was.</summary>
    public bool TryClose() => Interlocked.Exchange(ref _closed, 1) == 0;

    public void Dispose() => _source.Dispose();
}
