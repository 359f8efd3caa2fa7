namespace CitySight.Configuration.Tests;

/// <summary>cluster: node id, lease and capacity, with their defaults and located errors.</summary>
public class ClusterConfigTests
{
    [Fact]
    public void Defaults_are_the_host_name_fifteen_seconds_and_a_share_of_one()
    {
        var result = new TestConfig("service: {grpc_port: 50052}\n").Load();
        Assert.True(result.Success, TestConfig.AllErrors(result));
        var c = result.Config!.Cluster;
        Assert.Equal(ClusterSettings.DefaultNodeId(System.Net.Dns.GetHostName()), c.NodeId);
        Assert.Matches(ClusterSettings.NodeIdPattern(), c.NodeId);
        Assert.Equal((TimeSpan.FromSeconds(15), 1.0), (c.Lease, c.Capacity));
    }

    [Fact]
    public void Written_values_are_read_including_the_edges_of_the_lease()
    {
        var id = "citysight-0.citysight.city_ops";
        var c = Load($"cluster:\n  node_id: {id}\n  lease: 3s\n  capacity: 0.5\n");
        Assert.Equal((id, TimeSpan.FromSeconds(3), 0.5), (c.NodeId, c.Lease, c.Capacity));
        Assert.Equal(TimeSpan.FromMinutes(10), Load("cluster: {lease: 10m}\n").Lease);
        Assert.Equal(new string('n', 63), Load($"cluster: {{node_id: {new string('n', 63)}}}\n").NodeId);
    }

    [Theory]
    [InlineData("node_id: \"node one\"", "cluster.node_id", "\"node", "not a node id")]
    [InlineData("node_id: \"\"", "cluster.node_id", "\"\"", "not a node id")]
    [InlineData("node_id: nœud-1", "cluster.node_id", "nœud", "not a node id")]
    [InlineData("node_id: a/b", "cluster.node_id", "a/b", "not a node id")]
    [InlineData("node_id: [a, b]", "cluster.node_id", "[a", "expected text")]
    [InlineData("lease: 2s", "cluster.lease", "2s", "must be 3s to 10m")]
    [InlineData("lease: 10m1s", "cluster.lease", "10m1s", "must be 3s to 10m")]
    [InlineData("lease: 0", "cluster.lease", "0", "must be 3s to 10m")]
    [InlineData("lease: soon", "cluster.lease", "soon", "expected a duration")]
    [InlineData("capacity: 0", "cluster.capacity", "0", "greater than 0")]
    [InlineData("capacity: -1", "cluster.capacity", "-1", "greater than 0")]
    [InlineData("capacity: 1001", "cluster.capacity", "1001", "at most 1000")]
    [InlineData("capacity: lots", "cluster.capacity", "lots", "expected a number")]
    [InlineData("nodeid: citysight-0", "cluster.nodeid", "nodeid:", "did you mean 'node_id'")]
    public void Each_bad_value_is_an_error_at_its_line_and_column(string entry, string field, string token, string message)
    {
        var yaml = $"cluster:\n  {entry}   # <\n";
        var result = new TestConfig(yaml).Load();
        var e = TestConfig.Single(result, field);
        Assert.Single(result.Errors);
        var line = TestConfig.LineOf(yaml, "# <");
        Assert.Equal((line, TestConfig.ColumnOf(yaml, line, token)), (e.Line, e.Column));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_node_id_longer_than_a_dns_label_is_refused()
    {
        var yaml = $"cluster:\n  node_id: {new string('n', 64)}   # <\n";
        var e = TestConfig.Single(new TestConfig(yaml).Load(), "cluster.node_id");
        Assert.Equal((TestConfig.LineOf(yaml, "# <"), 12), (e.Line, e.Column));
        Assert.Contains("1 to 63", e.Message);
    }

    [Theory]
    [InlineData("citysight-0", "citysight-0")]
    [InlineData("node1.district.local", "node1.district.local")]
    [InlineData("my host!", "my-host-")]
    [InlineData("  ", "citysight")]
    public void The_host_name_default_is_made_a_valid_node_id(string host, string expected)
    {
        Assert.Equal(expected, ClusterSettings.DefaultNodeId(host));
        Assert.Matches(ClusterSettings.NodeIdPattern(), ClusterSettings.DefaultNodeId(host));
    }

    [Fact]
    public void A_host_name_longer_than_63_is_cut_to_a_valid_node_id()
    {
        var id = ClusterSettings.DefaultNodeId(new string('h', 70) + ".example");
        Assert.Equal(new string('h', 63), id);
    }

    private static ClusterSettings Load(string yaml)
    {
        var result = new TestConfig(yaml).Load();
        Assert.True(result.Success, TestConfig.AllErrors(result));
        return result.Config!.Cluster;
    }
}
