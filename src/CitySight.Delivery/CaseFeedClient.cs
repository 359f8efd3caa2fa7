using System.Runtime.CompilerServices;
using CitySight.Delivery.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace CitySight.Delivery;

/// <summary>A consumer's side of the case feed (used by the CLI's watch verb and by integration tests).</summary>
public static class CaseFeedClient
{
    /// <summary>Events with evidence can be a few MB; gRPC's default 4 MB limit would fail on a large JPEG.</summary>
    public const int MaxReceiveMessageBytes = 32 * 1024 * 1024;

    /// <summary>
    /// A channel for http://host:port (HTTP/2 without TLS) or https://. Keep-alive pings make a silently dropped
    /// connection fail the stream instead of leaving a subscriber waiting forever on a dead socket.
    /// </summary>
    public static GrpcChannel CreateChannel(string address) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = MaxReceiveMessageBytes,
            // Cancelling our token surfaces as OperationCanceledException, not RpcException(Cancelled).
            ThrowOperationCanceledOnCancellation = true,
            HttpHandler = new SocketsHttpHandler
            {
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                EnableMultipleHttp2Connections = true,
            },
        });

    /// <summary>
    /// Subscribes and yields events until <paramref name="ct"/> is cancelled or the stream fails (RpcException).
    /// It does not reconnect: to lose nothing, remember the last <see cref="CaseEvent.Sequence"/> you processed
    /// and call again with it as <paramref name="afterSequence"/>.
    /// </summary>
    public static async IAsyncEnumerable<CaseEvent> SubscribeAsync(string address, string consumer, ulong afterSequence,
        bool includeEvidence, [EnumeratorCancellation] CancellationToken ct = default)
    {
        using var channel = CreateChannel(address);
        var client = new CaseFeed.CaseFeedClient(channel);
        using var call = client.Subscribe(new SubscribeRequest
        {
            Consumer = consumer ?? "",
            AfterSequence = afterSequence,
            IncludeEvidence = includeEvidence,
        }, cancellationToken: ct);
        await foreach (var e in call.ResponseStream.ReadAllAsync(ct).ConfigureAwait(false))
            yield return e;
    }

    /// <summary>One case's evidence; throws RpcException NOT_FOUND for an unknown case.</summary>
    public static async Task<Evidence> GetEvidenceAsync(string address, string caseId, CancellationToken ct = default) =>
        await GetEvidenceAsync(address, caseId, EvidenceView.Best, ct).ConfigureAwait(false);

    /// <summary>One of a case's pictures (best, crops, first, the before/after pair of a static object).</summary>
    public static async Task<Evidence> GetEvidenceAsync(string address, string caseId, EvidenceView view, CancellationToken ct = default)
    {
        using var channel = CreateChannel(address);
        var client = new CaseFeed.CaseFeedClient(channel);
        return await client.GetEvidenceAsync(new GetEvidenceRequest { CaseId = caseId ?? "", View = view }, cancellationToken: ct)
            .ConfigureAwait(false);
    }
}
