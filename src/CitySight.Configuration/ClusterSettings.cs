using System.Text.RegularExpressions;

namespace CitySight.Configuration;

/// <summary>cluster: this node's name among the nodes sharing one PostgreSQL store, and how camera ownership is leased.</summary>
public sealed partial record ClusterSettings
{
    /// <summary>Longest node id: a DNS label, so a node id can also be a host name or a pod name.</summary>
    public const int MaxNodeIdLength = 63;

    /// <summary>Shortest and longest lease: under 3 s a GC pause or a slow commit loses cameras; over 10 min a dead node's cameras wait too long.</summary>
    public static readonly TimeSpan MinLease = TimeSpan.FromSeconds(3), MaxLease = TimeSpan.FromMinutes(10);

    /// <summary>cluster.node_id: unique per node; default the host name (a StatefulSet pod's name, citysight-0).</summary>
    public string NodeId { get; init; } = DefaultNodeId(System.Net.Dns.GetHostName());

    /// <summary>cluster.lease: a node that has not renewed its camera leases for this long loses them to the others.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>cluster.capacity: this node's share of the cameras relative to the other nodes' (2 takes twice a 1's share).</summary>
    public double Capacity { get; init; } = 1;

    /// <summary>Letters, digits, '-', '_', '.'; 1 to <see cref="MaxNodeIdLength"/> of them.</summary>
    [GeneratedRegex("^[A-Za-z0-9._-]{1,63}$", RegexOptions.CultureInvariant)]
    public static partial Regex NodeIdPattern();

    /// <summary>A host name made a valid node id: other characters become '-', cut to 63 ("citysight" when nothing is left).</summary>
    public static string DefaultNodeId(string hostName)
    {
        var id = NotNodeIdChars().Replace(hostName.Trim(), "-");
        if (id.Length > MaxNodeIdLength) id = id[..MaxNodeIdLength];
        return id.Length == 0 ? "citysight" : id;
    }

    [GeneratedRegex("[^A-Za-z0-9._-]", RegexOptions.CultureInvariant)]
    private static partial Regex NotNodeIdChars();
}
