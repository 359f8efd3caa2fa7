using CitySight.Cases.Postgres;
using CitySight.Tests;
using Npgsql;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Cases.Tests;

/// <summary>
/// The PostgreSQL store when its server is not there: callers get <see cref="IOException"/> naming the store (host,
/// port, database) so the case raiser waits and retries, and the connection string's password appears nowhere.
/// </summary>
public sealed class PostgresStorageFaultTests
{
    private const string Secret = "hunter2-do-not-log";

    [Fact]
    public void A_server_that_cannot_be_reached_is_an_io_error_naming_the_store_not_the_password()
    {
        var port = TestPorts.Free();
        var ex = Assert.Throws<IOException>(() =>
            new PostgresCaseStore($"Host=127.0.0.1;Port={port};Username=citysight;Password={Secret};Database=cases;Timeout=3", "n1"));
        Assert.Contains($"PostgreSQL case store 127.0.0.1:{port}/cases", ex.Message);
        Assert.DoesNotContain(Secret, ex.ToString());
    }

    [Fact]
    public async Task A_database_that_stops_taking_connections_fails_writes_as_io_errors_and_the_logs_keep_the_password_out()
    {
        var database = new NpgsqlConnectionStringBuilder(PostgresServer.NewDatabase("fault")) { Password = Secret, Pooling = false };
        var log = new CapturingLogger();
        await using var store = new PostgresCaseStore(database.ConnectionString, "n1", log);
        await store.OpenAsync(Case(1));

        await using (var admin = new NpgsqlConnection(PostgresServer.ConnectionString("postgres")))
        {
            await admin.OpenAsync();
            await using var cmd = new NpgsqlCommand($"""
                ALTER DATABASE "{database.Database}" ALLOW_CONNECTIONS false;
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database.Database}';
                """, admin);
            await cmd.ExecuteNonQueryAsync();
        }

        var ex = await Assert.ThrowsAsync<IOException>(() => store.OpenAsync(Case(2)));
        Assert.Contains($"/{database.Database}", ex.Message);
        Assert.DoesNotContain(Secret, ex.ToString());
        await Assert.ThrowsAsync<IOException>(() => store.GetAsync("any"));
        await Wait.UntilAsync(() => log.All.Contains("LISTEN connection dropped"), "the dropped LISTEN connection logged");
        Assert.DoesNotContain(Secret, log.All);
    }
}
