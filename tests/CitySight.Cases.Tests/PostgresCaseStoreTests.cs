using CitySight.Cases.Postgres;
using CitySight.Tests;

namespace CitySight.Cases.Tests;

/// <summary>
/// The PostgreSQL store runs the whole <see cref="CaseStoreContract"/> on a real PostgreSQL 15: each test gets its own
/// database, and "opening the folder again" is opening a new store on that database.
/// </summary>
public sealed class PostgresCaseStoreTests : CaseStoreContract
{
    private readonly string _database = PostgresServer.NewDatabase("contract");

    protected override ICaseStore Open(string dataFolder) => new PostgresCaseStore(_database, "node-1");
}
