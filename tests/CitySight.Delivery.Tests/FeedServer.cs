using CitySight.Cases;

namespace CitySight.Delivery.Tests;

/// <summary>The case feed on a real Kestrel (127.0.0.1, free port, h2c), wired the way the host wires delivery.</summary>
internal static class FeedServer
{
    public static Task<LoopbackGrpcServer> StartAsync(ICaseStore store) => LoopbackGrpcServer.CaseFeedAsync(store);
}
