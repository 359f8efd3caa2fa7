using CitySight.Cases.Sqlite;

namespace CitySight.Cases.Tests;

/// <summary>The embedded SQLite store runs the whole <see cref="CaseStoreContract"/>.</summary>
public sealed class SqliteCaseStoreTests : CaseStoreContract
{
    protected override ICaseStore Open(string dataFolder) => new SqliteCaseStore(dataFolder);
}
