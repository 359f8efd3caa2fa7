namespace CitySight.Configuration;

/// <summary>store: which case store backs the service (SQLite on one node, PostgreSQL for a cluster).</summary>
public sealed record StoreSettings
{
    public StoreBackend Backend { get; init; } = StoreBackend.Sqlite;

    /// <summary>
    /// store.postgres.connection_string_env: the NAME of the environment variable holding the Npgsql connection string,
    /// never the string itself (a config file is copied, diffed and pasted into tickets; the environment is not).
    /// Checked to be set when <see cref="Backend"/> is <see cref="StoreBackend.Postgres"/>; null when not written.
    /// </summary>
    public string? PostgresConnectionStringEnv { get; init; }

    /// <summary>
    /// The connection string, read from the environment at the moment it is needed (it is not kept in the config
    /// record, so printing the record never shows it).
    /// </summary>
    /// <exception cref="InvalidOperationException">Not postgres, or the variable is unset or empty; the message names the variable, never a value.</exception>
    public string PostgresConnectionString()
    {
        if (Backend != StoreBackend.Postgres || PostgresConnectionStringEnv is not { } name)
            throw new InvalidOperationException("store.backend is not postgres with store.postgres.connection_string_env set");
        return Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"environment variable {name} (store.postgres.connection_string_env) is not set or empty: it must hold the PostgreSQL connection string");
    }
}
