namespace CitySight.Configuration;

/// <summary>store.backend: where cases, cursors and camera ownership are kept.</summary>
public enum StoreBackend
{
    /// <summary>A SQLite file in service.data_dir: one node, nothing to install.</summary>
    Sqlite,
    /// <summary>A PostgreSQL server shared by every node of a cluster.</summary>
    Postgres,
}
