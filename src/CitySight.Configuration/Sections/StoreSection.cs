using YamlDotNet.RepresentationModel;

namespace CitySight.Configuration;

/// <summary>
/// store: the backend and, for postgres, the NAME of the variable holding the connection string. A connection string
/// holds a password, so nothing written in this section is ever echoed in an error when it looks like one.
/// </summary>
internal static class StoreSection
{
    private const string EnvKey = "connection_string_env";

    public static StoreSettings Read(Section top)
    {
        var s = new StoreSettings();
        // Opening a scalar as a mapping echoes it in the error: say what is wrong without showing it.
        if (NotAMapping(top, "store", "backend: sqlite or backend: postgres")) return s;
        if (top.Child("store") is not { } sec) return s;

        var backend = Backend(sec);
        var postgres = NotAMapping(sec, "postgres", $"{EnvKey}: NAME") ? null : sec.Child("postgres");
        var env = postgres is null ? null : ConnectionStringEnv(postgres, mustBeSet: backend == StoreBackend.Postgres);
        // A postgres section that is not a mapping has its error already.
        var brokenSection = sec.Has("postgres") && postgres is null;
        if (backend == StoreBackend.Postgres && postgres?.Has(EnvKey) != true && !brokenSection)
        {
            // Point at the postgres section when it is written, else at the backend that asks for it.
            var at = sec.Has("postgres") ? sec.KeyMark("postgres") : sec.Value("backend")!.Start;
            sec.Src.Error(at, $"{sec.Field("postgres")}.{EnvKey}",
                "is required when store.backend is postgres: the NAME of an environment variable holding the connection string");
        }
        return s with { Backend = backend ?? s.Backend, PostgresConnectionStringEnv = env };
    }

    /// <summary>The backend written, or null when absent or invalid (the error is recorded without echoing a secret-looking value).</summary>
    private static StoreBackend? Backend(Section sec)
    {
        if (sec.Value("backend") is YamlScalarNode { Value: { } text } node && LooksLikeConnectionString(text))
        {
            sec.Src.Error(node.Start, sec.Field("backend"),
                $"must be one of: {string.Join(", ", ConfigKeys.ChoicesOf<StoreBackend>())}; a connection string belongs in an environment variable named by store.postgres.{EnvKey} (value not shown)");
            return null;
        }
        return sec.Choice<StoreBackend>("backend");
    }

    /// <summary>The variable's NAME; when <paramref name="mustBeSet"/> it must also be set and non-empty now.</summary>
    private static string? ConnectionStringEnv(Section pg, bool mustBeSet)
    {
        if (pg.Value(EnvKey) is not { } node) return null;
        var field = pg.Field(EnvKey);
        if (node is not YamlScalarNode { Value: { } name })
        {
            pg.Src.Error(node.Start, field, "expected the NAME of an environment variable (got a list or mapping)");
            return null;
        }
        name = name.Trim();
        if (LooksLikeConnectionString(name))
        {
            // Never echoed: this is the connection string itself, password included.
            pg.Src.Error(node.Start, field,
                "looks like a connection string (value not shown): put it in an environment variable and write that variable's NAME here, e.g. CITYSIGHT_PG_CONNECTION");
            return null;
        }
        if (!SectionReaders.EnvNamePattern().IsMatch(name))
        {
            pg.Src.Error(node.Start, field,
                "must be the NAME of an environment variable holding the connection string (letters, digits, '_'; value not shown)");
            return null;
        }
        if (mustBeSet && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)))
        {
            pg.Src.Error(node.Start, field, $"environment variable {name} is not set (or empty): it must hold the PostgreSQL connection string");
            return null;
        }
        return name;
    }

    /// <summary>Npgsql's "Host=db;Password=..." form: a name never holds '=' or ';'.</summary>
    private static bool LooksLikeConnectionString(string text) => text.IndexOfAny(['=', ';']) >= 0;

    /// <summary>True (with the error recorded) when <paramref name="key"/> holds a scalar or list instead of a mapping.</summary>
    private static bool NotAMapping(Section sec, string key, string expected)
    {
        if (sec.Value(key) is not { } node || node is YamlMappingNode) return false;
        var got = node is YamlSequenceNode ? "a list" : "a single value, not shown";
        sec.Src.Error(node.Start, sec.Field(key), $"expected a mapping with {expected} (got {got})");
        return true;
    }
}
