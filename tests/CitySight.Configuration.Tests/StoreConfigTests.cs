namespace CitySight.Configuration.Tests;

/// <summary>store: the backend, and the NAME (never the value) of the variable holding PostgreSQL's connection string.</summary>
public class StoreConfigTests
{
    /// <summary>What a pasted connection string's password looks like; no error may ever show it.</summary>
    private const string Secret = "s3cret-Pa55word-9f2c";

    private static string NewVariable(string? value)
    {
        var name = "CITYSIGHT_TEST_PG_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(name, value);
        return name;
    }

    /// <summary>The one error of <paramref name="yaml"/>: at the line marked "# &lt;" and the column where <paramref name="token"/> starts.</summary>
    private static ConfigError SingleAt(string yaml, string field, string token)
    {
        var result = new TestConfig(yaml).Load();
        var e = TestConfig.Single(result, field);
        Assert.Single(result.Errors);
        var line = TestConfig.LineOf(yaml, "# <");
        Assert.Equal((line, TestConfig.ColumnOf(yaml, line, token)), (e.Line, e.Column));
        return e;
    }

    [Fact]
    public void Without_a_store_section_the_backend_is_sqlite_with_no_variable()
    {
        var result = new TestConfig("service: {grpc_port: 50052}\n").Load();
        Assert.True(result.Success, TestConfig.AllErrors(result));
        Assert.Equal(StoreBackend.Sqlite, result.Config!.Store.Backend);
        Assert.Null(result.Config.Store.PostgresConnectionStringEnv);
    }

    [Fact]
    public void Postgres_with_its_variable_set_holds_the_name_and_reads_the_value_only_when_asked()
    {
        var env = NewVariable($"Host=db;Database=citysight;Username=citysight;Password={Secret}");
        var result = new TestConfig($"store:\n  backend: postgres\n  postgres:\n    connection_string_env: {env}\n").Load();
        Assert.True(result.Success, TestConfig.AllErrors(result));
        var store = result.Config!.Store;
        Assert.Equal((StoreBackend.Postgres, env), (store.Backend, store.PostgresConnectionStringEnv));
        Assert.DoesNotContain(Secret, store.ToString());
        Assert.DoesNotContain(Secret, result.Config.ToString());
        Assert.Contains(Secret, store.PostgresConnectionString());
        // Written in any case: the choice is case-insensitive, as every choice key's.
        Assert.True(new TestConfig($"store: {{backend: PostgreSQL}}\n").Load().Errors.Count == 1);
        Assert.True(new TestConfig($"store: {{backend: Postgres, postgres: {{connection_string_env: {env}}}}}\n").Load().Success);
    }

    [Fact]
    public void An_unknown_backend_is_an_error_at_its_value_listing_the_choices()
    {
        var e = SingleAt("store:\n  backend: mysql   # <\n", "store.backend", "mysql");
        Assert.Contains("sqlite, postgres", e.Message);
    }

    [Fact]
    public void Postgres_without_connection_string_env_is_an_error_at_the_backend_or_at_the_postgres_section()
    {
        var e = SingleAt("store:\n  backend: postgres   # <\n", "store.postgres.connection_string_env", "postgres");
        Assert.Contains("required", e.Message);
        Assert.Contains("environment variable", e.Message);

        SingleAt("store:\n  backend: postgres\n  postgres: {}   # <\n", "store.postgres.connection_string_env", "postgres");
    }

    [Fact]
    public void An_unset_or_empty_variable_is_an_error_naming_it_at_the_value()
    {
        var unset = NewVariable(null);
        var e = SingleAt($"store:\n  backend: postgres\n  postgres:\n    connection_string_env: {unset}   # <\n",
            "store.postgres.connection_string_env", unset);
        Assert.Contains($"environment variable {unset} is not set", e.Message);

        var empty = NewVariable("");
        // .NET removes a variable set to "": either way it must count as not set.
        e = SingleAt($"store:\n  backend: postgres\n  postgres:\n    connection_string_env: {empty}   # <\n",
            "store.postgres.connection_string_env", empty);
        Assert.Contains(empty, e.Message);
    }

    [Fact]
    public void A_connection_string_written_where_the_name_goes_is_refused_without_being_shown()
    {
        var yaml = $"store:\n  backend: postgres\n  postgres:\n    connection_string_env: \"Host=db;Password={Secret}\"   # <\n";
        var e = SingleAt(yaml, "store.postgres.connection_string_env", "\"Host");
        Assert.Contains("put it in an environment variable", e.Message);
        Assert.DoesNotContain(Secret, e.ToString());
        // An '=' alone (Password=...) is as telling as a ';'.
        e = SingleAt($"store:\n  postgres:\n    connection_string_env: Password={Secret}   # <\n", "store.postgres.connection_string_env", "Password");
        Assert.Contains("put it in an environment variable", e.Message);
    }

    [Theory]
    [InlineData("store: \"Host=db;Password=" + Secret + "\"\n", "store")]
    [InlineData("store:\n  backend: \"Host=db;Password=" + Secret + "\"\n", "store.backend")]
    [InlineData("store:\n  backend: postgres\n  postgres: \"Host=db;Password=" + Secret + "\"\n", "store.postgres")]
    [InlineData("store:\n  backend: postgres\n  postgres: [\"Host=db;Password=" + Secret + "\"]\n", "store.postgres")]
    [InlineData("store:\n  postgres:\n    connection_string_env: \"postgres://citysight:" + Secret + "@db/citysight\"\n", "store.postgres.connection_string_env")]
    [InlineData("store:\n  postgres:\n    connection_string_env: [\"" + Secret + "\"]\n", "store.postgres.connection_string_env")]
    [InlineData("store:\n  postgres:\n    connection_string: \"Host=db;Password=" + Secret + "\"\n", "store.postgres.connection_string")]
    public void No_error_ever_shows_a_secret_written_anywhere_in_the_store_section(string yaml, string field)
    {
        var result = new TestConfig(yaml).Load();
        Assert.False(result.Success);
        Assert.Contains(result.Errors, e => e.Field == field && e.Line > 0);
        Assert.DoesNotContain(Secret, TestConfig.AllErrors(result));
        Assert.DoesNotContain(Secret, new ConfigException(result.Errors).Message);
    }

    [Fact]
    public void With_sqlite_a_postgres_section_is_kept_for_a_later_switch_and_its_variable_need_not_be_set()
    {
        var unset = NewVariable(null);
        var result = new TestConfig($"store:\n  backend: sqlite\n  postgres:\n    connection_string_env: {unset}\n").Load();
        Assert.True(result.Success, TestConfig.AllErrors(result));
        Assert.Equal((StoreBackend.Sqlite, unset), (result.Config!.Store.Backend, result.Config.Store.PostgresConnectionStringEnv));
        Assert.Throws<InvalidOperationException>(() => result.Config.Store.PostgresConnectionString());
    }

    [Fact]
    public void Reading_the_connection_string_after_the_variable_went_away_names_it_and_nothing_else()
    {
        var env = NewVariable($"Host=db;Password={Secret}");
        var store = new TestConfig($"store:\n  backend: postgres\n  postgres: {{connection_string_env: {env}}}\n").Load().Config!.Store;
        Environment.SetEnvironmentVariable(env, null);
        var ex = Assert.Throws<InvalidOperationException>(() => store.PostgresConnectionString());
        Assert.Contains(env, ex.Message);
        Assert.DoesNotContain(Secret, ex.Message);
    }
}
