namespace CitySight.Cluster;

/// <summary>
/// Cameras this node may start (<paramref name="Gained"/>) and must stop now (<paramref name="Lost"/>). A lost camera
/// is raised before another node can claim it (before the release is written, or at the fence before the lease ends).
/// </summary>
public sealed record OwnershipChange(IReadOnlySet<string> Gained, IReadOnlySet<string> Lost);
