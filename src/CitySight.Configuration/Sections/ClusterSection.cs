namespace CitySight.Configuration;

/// <summary>cluster: this node's id, its camera leases' length and its share of the cameras.</summary>
internal static class ClusterSection
{
    public static ClusterSettings Read(Section top)
    {
        var c = new ClusterSettings();
        if (top.Child("cluster") is not { } sec) return c;
        return c with
        {
            NodeId = NodeId(sec) ?? c.NodeId,
            Lease = Lease(sec) ?? c.Lease,
            Capacity = sec.Number("capacity") ?? c.Capacity,
        };
    }

    private static string? NodeId(Section sec)
    {
        if (sec.Text("node_id") is not { } id) return null;
        if (ClusterSettings.NodeIdPattern().IsMatch(id)) return id;
        sec.Src.Error(sec.Value("node_id")!.Start, sec.Field("node_id"),
            $"'{YamlSource.Shorten(id)}' is not a node id: 1 to {ClusterSettings.MaxNodeIdLength} of letters, digits, '-', '_', '.' (default: the host name)");
        return null;
    }

    /// <summary>The declared range (seconds) is where the bounds live; the section reader checks durations' upper bounds itself.</summary>
    private static TimeSpan? Lease(Section sec)
    {
        if (sec.Duration("lease") is not { } lease) return null;
        var key = sec.Key("lease");
        TimeSpan min = TimeSpan.FromSeconds(key.Min!.Value), max = TimeSpan.FromSeconds(key.Max!.Value);
        if (lease >= min && lease <= max) return lease;
        sec.Src.Error(sec.Value("lease")!.Start, sec.Field("lease"),
            $"must be {Durations.Format(min)} to {Durations.Format(max)} (got {Durations.Format(lease)})");
        return null;
    }
}
