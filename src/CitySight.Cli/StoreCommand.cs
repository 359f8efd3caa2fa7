using System.CommandLine;
using CitySight.Cases.Postgres;
using CitySight.Configuration;

namespace CitySight.Cli;

/// <summary>`citysight store migrate --from sqlite:PATH`: a single node's store moved into the cluster's PostgreSQL.</summary>
internal static class StoreCommand
{
    public static Command Create()
    {
        var config = ConfigPaths.ConfigOption();
        var from = new Option<string>("--from")
        {
            Description = "The store to copy: sqlite:PATH, PATH being the old service.data_dir (the service that used it must be stopped)",
            Required = true,
        };
        var migrate = new Command("migrate",
            "Copy a single node's SQLite store (cases, feed with its sequences, consumers' cursors, pictures) into the PostgreSQL store " +
            "the configuration names (store.backend: postgres); the target must be empty. Consumers resume where they acked.") { config, from };
        migrate.SetAction(async (parse, ct) =>
        {
            var file = ConfigPaths.Resolve(parse.GetValue(config));
            var cfg = ConfigPaths.LoadOrReport(file);
            if (cfg is null) return 2;
            var source = parse.GetValue(from)!;
            if (!source.StartsWith("sqlite:", StringComparison.Ordinal) || source.Length == "sqlite:".Length)
            {
                Console.Error.WriteLine($"store migrate: --from {source}: expected sqlite:PATH (the old service.data_dir)");
                return 2;
            }
            if (cfg.Store.Backend != StoreBackend.Postgres)
            {
                Console.Error.WriteLine($"store migrate: {file}: store.backend is {cfg.Store.Backend.ToString().ToLowerInvariant()}; the target must be postgres");
                return 2;
            }
            var folder = Path.GetFullPath(source["sqlite:".Length..]);
            try
            {
                var result = await PostgresImport.FromSqliteAsync(folder, cfg.Store.PostgresConnectionString(), ct);
                Console.WriteLine($"store migrate: {folder} → PostgreSQL: {result}");
                return 0;
            }
            catch (Exception ex) when (ex is FileNotFoundException or InvalidOperationException or IOException or InvalidDataException)
            {
                // The messages name the folder, the variable or the server (host, port, database), never the connection string.
                Console.Error.WriteLine($"store migrate: {ex.Message}");
                return 1;
            }
        });
        var cmd = new Command("store", "The case store: migrate a single node's store into a cluster's PostgreSQL.") { migrate };
        return cmd;
    }
}
