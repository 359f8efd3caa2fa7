namespace CitySight.Cluster.Tests;

public sealed class SharesTests
{
    [Theory]
    [InlineData(30, new[] { 1.0, 1.0, 1.0, 1.0 }, new[] { 8, 8, 7, 7 })]
    [InlineData(1000, new[] { 1.0, 1.0, 1.0 }, new[] { 334, 333, 333 })]
    [InlineData(30, new[] { 2.0, 1.0 }, new[] { 20, 10 })]
    [InlineData(10, new[] { 1.5, 1.0, 0.5 }, new[] { 5, 3, 2 })]
    [InlineData(2, new[] { 1.0, 1.0, 1.0 }, new[] { 1, 1, 0 })]
    public void Shares_are_proportional_to_capacity_and_add_up_to_the_cameras(int cameras, double[] capacities, int[] expected)
    {
        var live = capacities.Select((c, i) => ($"node-{i}", c)).ToList();
        var shares = Shares.Compute(live, cameras);
        Assert.Equal(expected, live.Select(n => shares[n.Item1]));
        Assert.Equal(cameras, shares.Values.Sum());
    }

    [Fact]
    public void Every_node_computes_the_same_shares_whatever_order_it_reads_the_nodes_in()
    {
        var live = new[] { ("b", 1.0), ("a", 1.0), ("c", 1.0) }.ToList();
        Assert.Equal(Shares.Compute(live, 31).OrderBy(s => s.Key), Shares.Compute([.. live.OrderBy(n => n.Item1)], 31).OrderBy(s => s.Key));
    }
}
