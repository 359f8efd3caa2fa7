using CitySight.Cases.Postgres;
using CitySight.Cases.Sqlite;
using CitySight.Tests;

namespace CitySight.Cli.Tests;

/// <summary>`citysight store migrate --from sqlite:PATH` as an operator runs it: a real process, a real SQLite store, a real PostgreSQL.</summary>
public sealed class StoreMigrateTests
{
    [Fact]
    public async Task A_single_nodes_store_moves_into_postgresql_with_its_sequences_and_cursors_and_a_second_run_is_refused()
    {
        var dir = TestAssets.TempDir("migrate");
        var old = Path.Combine(dir, "old-data");
        string[] ids;
        using (var sqlite = new SqliteCaseStore(old))
        {
            ids = [.. (await Task.WhenAll(Enumerable.Range(1, 5).Select(i => sqlite.OpenAsync(CaseSamples.Case(i))))).Select(c => c.Id)];
            await sqlite.AckAsync("xuhui-dispatch", 3);
        }
        var variable = $"CITYSIGHT_MIGRATE_PG_{Guid.NewGuid():N}";
        var connection = PostgresServer.NewDatabase("migrate");
        Environment.SetEnvironmentVariable(variable, connection);
        try
        {
            var config = Path.Combine(dir, "citysight.yaml");
            File.WriteAllText(config, $"""
                store:
                  backend: postgres
                  postgres:
                    connection_string_env: {variable}
                """);
            var (code, stdout, stderr) = await CitysightProcess.RunAsync(TimeSpan.FromSeconds(120), "store", "migrate", "--config", config, "--from", "sqlite:" + old);
            Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
            Assert.Contains("Cases = 5", stdout);
            Assert.DoesNotContain(connection, stdout + stderr);

            await using (var pg = new PostgresCaseStore(connection, "check"))
            {
                Assert.Equal(5, pg.LastSequence);
                Assert.Equal(3, await pg.CursorAsync("xuhui-dispatch"));
                foreach (var id in ids) Assert.NotNull(await pg.GetEvidenceAsync(id));
            }

            // Into a store that holds cases already: refused, nothing copied twice.
            (code, stdout, stderr) = await CitysightProcess.RunAsync(TimeSpan.FromSeconds(120), "store", "migrate", "--config", config, "--from", "sqlite:" + old);
            Assert.Equal(1, code);
            Assert.Contains("store migrate:", stderr);
            Assert.DoesNotContain(connection, stdout + stderr);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
