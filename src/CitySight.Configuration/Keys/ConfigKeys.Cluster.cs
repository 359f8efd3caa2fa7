using static CitySight.Configuration.ConfigKeyKind;

namespace CitySight.Configuration;

/// <summary>The keys of citysight.yaml's store and cluster sections (see the recipe in ConfigKeys.cs).</summary>
public static partial class ConfigKeys
{
    private static IEnumerable<ConfigKey> StoreKeys()
    {
        yield return Container(M, "store", Mapping, "Where cases are kept: SQLite on one node, or PostgreSQL shared by a cluster.");
        var store = new KeysOf<StoreSettings>(M, new(), c => c.Store);
        yield return store.Choice("store.backend", s => s.Backend, "sqlite (one node, nothing to install) or postgres (a cluster).", "postgres");
        yield return Container(M, "store.postgres", Mapping, "The PostgreSQL server of store.backend: postgres.");
        yield return store.Key("store.postgres.connection_string_env", EnvName, s => s.PostgresConnectionStringEnv,
            "NAME of the environment variable with the Npgsql connection string; required with postgres.", SampleSecretEnv);
    }

    private static IEnumerable<ConfigKey> ClusterKeys()
    {
        yield return Container(M, "cluster", Mapping, "This node among the nodes sharing one PostgreSQL store.");
        var cluster = new KeysOf<ClusterSettings>(M, new(), c => c.Cluster);
        yield return cluster.Key("cluster.node_id", Text, s => s.NodeId,
            "This node's unique name: letters, digits, '-', '_', '.', at most 63; default the host name.", "node-b");
        yield return cluster.Key("cluster.lease", Duration, s => s.Lease,
            "A node that has not renewed its cameras' leases this long loses them to the others; 3s to 10m.", "30s",
            min: ClusterSettings.MinLease.TotalSeconds, max: ClusterSettings.MaxLease.TotalSeconds);
        yield return cluster.Key("cluster.capacity", Number, s => s.Capacity,
            "This node's share of the cameras relative to the other nodes' (2: twice a 1's share).", "2", min: 0, max: 1000, minExclusive: true);
    }
}
