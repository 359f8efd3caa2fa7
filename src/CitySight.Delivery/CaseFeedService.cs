using CitySight.Cases;
using CitySight.Delivery.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace CitySight.Delivery;

/// <summary>The gRPC case feed over the <see cref="CaseStore"/>; see proto/citysight/v1/case_feed.proto for the contract.</summary>
public sealed class CaseFeedService(CaseStore store, ILogger<CaseFeedService> logger) : CaseFeed.CaseFeedBase
{
    private static readonly Gauge Subscribers = Metrics.CreateGauge(
        "citysight_delivery_subscribers", "gRPC case feed subscriptions currently open.");

    private static readonly Counter EventsSent = Metrics.CreateCounter(
        "citysight_delivery_events_sent_total", "Case events written to gRPC subscribers.");

    public override async Task Subscribe(SubscribeRequest request, IServerStreamWriter<CaseEvent> responseStream,
        ServerCallContext context)
    {
        if (request.AfterSequence > long.MaxValue)
            throw new RpcException(new Status(StatusCode.InvalidArgument, "after_sequence must be at most 2^63-1"));

        var consumer = string.IsNullOrWhiteSpace(request.Consumer) ? "(unnamed)" : request.Consumer;
        var after = (long)request.AfterSequence;
        // Cancelled by the client going away and by its deadline: the store's follower stops with it.
        var ct = context.CancellationToken;
        logger.LogInformation("Case feed subscriber {Consumer} from {Peer} after sequence {After} (evidence: {Evidence})",
            consumer, context.Peer, after, request.IncludeEvidence);

        Subscribers.Inc();
        var last = after;
        try
        {
            await foreach (var c in store.FeedAsync(after, request.IncludeEvidence, ct).ConfigureAwait(false))
            {
                // Awaiting the write is the back-pressure: a slow consumer slows only its own follower.
                await responseStream.WriteAsync(CaseMapping.ToOpenedEvent(c, request.IncludeEvidence), ct).ConfigureAwait(false);
                EventsSent.Inc();
                last = c.Sequence;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client cancelled or its deadline passed; gRPC reports the status itself.
        }
        catch (ObjectDisposedException)
        {
            // Host shutting down: tell the client it is transient, so it resubscribes from its cursor.
            throw new RpcException(new Status(StatusCode.Unavailable, "CitySight is shutting down; resubscribe with your last sequence"));
        }
        finally
        {
            Subscribers.Dec();
            logger.LogInformation("Case feed subscriber {Consumer} left after sequence {Last}", consumer, last);
        }
    }

    public override async Task<Evidence> GetEvidence(GetEvidenceRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.CaseId))
            throw new RpcException(new Status(StatusCode.InvalidArgument, "case_id is required"));

        var bytes = await store.GetEvidenceAsync(request.CaseId, context.CancellationToken).ConfigureAwait(false)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"no evidence for case '{request.CaseId}'"));
        return new Evidence
        {
            CaseId = request.CaseId,
            ContentType = CaseMapping.EvidenceContentType,
            Data = UnsafeByteOperations.UnsafeWrap(bytes),
        };
    }
}
