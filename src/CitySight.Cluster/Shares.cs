namespace CitySight.Cluster;

/// <summary>
/// Each live node's share of the cameras, proportional to its capacity, rounded the same way on every node (largest
/// remainder, ties to the lower node id) so the shares always add up to the camera count.
/// </summary>
internal static class Shares
{
    public static int Of(string nodeId, IReadOnlyList<(string Node, double Capacity)> live, int cameras)
    {
        var all = Compute(live, cameras);
        return all.TryGetValue(nodeId, out var share) ? share : 0;
    }

    public static Dictionary<string, int> Compute(IReadOnlyList<(string Node, double Capacity)> live, int cameras)
    {
        var shares = new Dictionary<string, int>(StringComparer.Ordinal);
        if (live.Count == 0) return shares;
        var total = live.Sum(n => n.Capacity);
        var rest = new List<(string Node, double Fraction)>(live.Count);
        var given = 0;
        foreach (var (node, capacity) in live)
        {
            var quota = cameras * capacity / total;
            var whole = (int)Math.Floor(quota);
            shares[node] = whole;
            given += whole;
            rest.Add((node, quota - whole));
        }
        // Float error may leave a quota a hair under a whole number: the remainder still goes out in full.
        foreach (var (node, _) in rest.OrderByDescending(r => Math.Round(r.Fraction, 9)).ThenBy(r => r.Node, StringComparer.Ordinal).Take(Math.Max(0, cameras - given)))
            shares[node]++;
        return shares;
    }
}
