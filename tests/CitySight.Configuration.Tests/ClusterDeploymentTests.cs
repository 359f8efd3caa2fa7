using CitySight.Tests;
using YamlDotNet.RepresentationModel;

namespace CitySight.Configuration.Tests;

/// <summary>
/// The cluster's shipped files: the example configuration and the Kubernetes ConfigMap's copy load as CitySight reads
/// them, and the Compose and Kubernetes files hand the nodes the variables the configuration names, never a secret
/// inline. (Docker and Kubernetes cannot run here: these check the files, not a running cluster.)
/// </summary>
public class ClusterDeploymentTests
{
    private static readonly string Root = TestAssets.RepoRoot;
    private static readonly string K8s = Path.Combine(Root, "deploy", "k8s");

    [Fact]
    public void The_cluster_example_loads_with_postgres_tls_and_api_keys_when_its_variables_are_set()
    {
        var dir = InstalledExamples.Copy("cluster-example");
        Environment.SetEnvironmentVariable("CITYSIGHT_PG_CONNECTION", "Host=db;Database=citysight;Username=citysight;Password=example-only");
        Environment.SetEnvironmentVariable("CITYSIGHT_API_KEYS", "xuhui-dispatch=xd-0123456789abcdef,ops=ops-0123456789abcdef");

        var r = ConfigLoader.Load(Path.Combine(dir, "cluster.yaml"));
        Assert.True(r.Success, TestConfig.AllErrors(r));
        var c = r.Config!;
        Assert.Equal((StoreBackend.Postgres, "CITYSIGHT_PG_CONNECTION"), (c.Store.Backend, c.Store.PostgresConnectionStringEnv));
        Assert.Equal((TimeSpan.FromSeconds(15), 1.0), (c.Cluster.Lease, c.Cluster.Capacity));
        Assert.Equal(ClusterSettings.DefaultNodeId(System.Net.Dns.GetHostName()), c.Cluster.NodeId);
        Assert.NotNull(c.Delivery.Grpc.TlsCert);
        Assert.True(c.Delivery.Grpc.Authenticates);
        Assert.Equal("tianlin-001", Assert.Single(c.Cameras).Id);
    }

    [Fact]
    public void The_kubernetes_configmap_holds_a_config_that_loads_with_its_camera_files_where_the_pod_mounts_them()
    {
        var map = Load(Path.Combine(K8s, "configmap.yaml"));
        var data = (YamlMappingNode)map["data"];
        var items = Pod()["volumes"].AllNodes.OfType<YamlMappingNode>()
            .Where(n => n.Children.ContainsKey("key")).ToDictionary(n => Text(n["key"]), n => Text(n["path"]));
        Assert.Equal(data.Children.Keys.Select(Text).Order(), items.Keys.Order());

        var dir = TestAssets.TempDir("k8s-config");
        foreach (var (key, path) in items)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dir, path))!);
            File.WriteAllText(Path.Combine(dir, path), Text(data[key]));
        }
        // The ConfigMap's camera file is the example's (one copy to edit would drift from the other).
        Assert.Equal(File.ReadAllText(Path.Combine(Root, "configs", "examples", "cameras", "district.yaml")), Text(data["district.yaml"]));
        Environment.SetEnvironmentVariable("CITYSIGHT_PG_CONNECTION", "Host=db;Password=example-only");
        Environment.SetEnvironmentVariable("CITYSIGHT_API_KEYS", "xuhui-dispatch=xd-0123456789abcdef,ops=ops-0123456789abcdef");
        var r = ConfigLoader.Load(Path.Combine(dir, "citysight.yaml"));
        Assert.True(r.Success, TestConfig.AllErrors(r));
        Assert.Equal(StoreBackend.Postgres, r.Config!.Store.Backend);
        Assert.Equal((50051, 8080), (r.Config.Service.GrpcPort, r.Config.Service.HttpPort));
        // The kubelet's gRPC probe speaks plaintext: the pod's gRPC port must not demand TLS, and keys stay on.
        Assert.Null(r.Config.Delivery.Grpc.TlsCert);
        Assert.True(r.Config.Delivery.Grpc.Authenticates);
        Assert.Equal("tianlin-001", Assert.Single(r.Config.Cameras).Id);
    }

    [Fact]
    public void The_statefulset_runs_three_nodes_probed_scraped_and_allowed_to_raise_the_writers_priority()
    {
        var set = Load(Path.Combine(K8s, "statefulset.yaml"));
        Assert.Equal("3", Text(set["spec"]["replicas"]));
        var pod = Pod();
        var container = (YamlMappingNode)((YamlSequenceNode)pod["containers"]).Children.Single();
        Assert.Equal("50051", Text(container["readinessProbe"]["grpc"]["port"]));
        Assert.Equal("/healthz", Text(container["livenessProbe"]["httpGet"]["path"]));
        Assert.Contains("SYS_NICE", Items(container["securityContext"]["capabilities"]["add"]));
        var annotations = (YamlMappingNode)set["spec"]["template"]["metadata"]["annotations"];
        Assert.Equal(("true", "8080", "/metrics"),
            (Text(annotations["prometheus.io/scrape"]), Text(annotations["prometheus.io/port"]), Text(annotations["prometheus.io/path"])));
        Assert.Equal(["run", "--config", "/etc/citysight/citysight.yaml"], Items(container["args"]));

        // Each variable the configuration names comes from the Secret, none is written inline.
        var env = ((YamlSequenceNode)container["env"]).Children.Cast<YamlMappingNode>().ToDictionary(e => Text(e["name"]));
        foreach (var name in new[] { "CITYSIGHT_PG_CONNECTION", "CITYSIGHT_API_KEYS" })
            Assert.Equal(("citysight-secrets", name), (Text(env[name]["valueFrom"]["secretKeyRef"]["name"]), Text(env[name]["valueFrom"]["secretKeyRef"]["key"])));
        var service = File.ReadAllText(Path.Combine(K8s, "service.yaml"));
        Assert.Contains("port: 50051", service);
        Assert.Contains("port: 8080", service);
    }

    [Fact]
    public void Compose_runs_postgres_15_and_three_nodes_with_secrets_only_from_env_files()
    {
        var path = Path.Combine(Root, "docker", "compose.cluster.yaml");
        var services = (YamlMappingNode)Load(path)["services"];
        Assert.Equal("postgres:15", Text(services["postgres"]["image"]));
        var nodes = services.Children.Keys.Select(Text).Where(n => n.StartsWith("citysight-", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, nodes.Count);
        // Outside comments no line holds a connection string or a password.
        var code = File.ReadLines(path).Select(l => l.Split('#')[0]);
        Assert.DoesNotContain(code, l => l.Contains("Password", StringComparison.OrdinalIgnoreCase) || l.Contains("Host=", StringComparison.Ordinal));
        var text = File.ReadAllText(path);
        Assert.Contains("cap_add: [SYS_NICE]", text);
        Assert.Contains("env_file: cluster-citysight.env", text);
        Assert.Contains("\"run\", \"--config\", \"/etc/citysight/citysight.yaml\"", text);
        // The env file's example sets exactly the variables cluster.yaml names.
        var example = File.ReadLines(Path.Combine(Root, "docker", "cluster-citysight.env.example"))
            .Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l[..l.IndexOf('=')]).Order();
        Assert.Equal(["CITYSIGHT_API_KEYS", "CITYSIGHT_PG_CONNECTION"], example);
    }

    private static YamlMappingNode Pod() => (YamlMappingNode)Load(Path.Combine(K8s, "statefulset.yaml"))["spec"]["template"]["spec"];

    private static YamlMappingNode Load(string path)
    {
        var stream = new YamlStream();
        using var reader = File.OpenText(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static IEnumerable<string> Items(YamlNode list) => ((YamlSequenceNode)list).Children.Select(Text);

    private static string Text(YamlNode node) => ((YamlScalarNode)node).Value ?? "";
}
