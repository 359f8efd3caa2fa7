using System.Runtime.CompilerServices;
using CitySight.Cases;
using CitySight.Delivery.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace CitySight.Delivery;

/// <summary>
/// The gRPC case feed over the case store's feed, its cases (dispatch's outcomes) and their pictures; see
/// proto/citysight/v1/case_feed.proto for the contract.
/// </summary>
public sealed class CaseFeedService(ICaseFeed feed, ICaseRecords cases, IEvidenceStore evidence, Security.ConsumerAuthOptions auth,
    SubscriberCounts subscribers, ILogger<CaseFeedService> logger) : CaseFeed.CaseFeedBase
{
    // One message per event for every stream at that position: followers at the same position share the store's batch,
    // so the same event object reaches each of them and is mapped once, not once per subscriber.
    private static readonly ConditionalWeakTable<CaseFeedEvent, CaseEvent> Mapped = new();
    private static readonly ConditionalWeakTable<CaseFeedEvent, CaseEvent> MappedWithEvidence = new();

    private static readonly Counter EventsSent = Metrics.CreateCounter(
        "citysight_delivery_events_sent_total", "Case events written to gRPC subscribers.");

    public override async Task Subscribe(SubscribeRequest request, IServerStreamWriter<CaseEvent> responseStream,
        ServerCallContext context)
    {
        if (request.AfterSequence > long.MaxValue)
            throw new RpcException(new Status(StatusCode.InvalidArgument, "after_sequence must be at most 2^63-1"));

        var named = OutsideConsumer(context, request.Consumer);
        var consumer = string.IsNullOrWhiteSpace(named) ? "(unnamed)" : named;
        var after = (long)request.AfterSequence;
        if (request.Resume)
        {
            if (string.IsNullOrWhiteSpace(named))
                throw new RpcException(new Status(StatusCode.InvalidArgument, "resume needs the consumer's name"));
            after = Math.Max(after, await CursorOf(named, context.CancellationToken).ConfigureAwait(false));
        }
        // Cancelled by the client going away and by its deadline: the store's follower stops with it.
        var ct = context.CancellationToken;
        IDisposable open;
        try
        {
            open = subscribers.Enter(consumer);
        }
        catch (RpcException ex)
        {
            logger.LogWarning("Refused case feed subscriber {Consumer} from {Peer}: {Reason}", consumer, context.Peer, ex.Status.Detail);
            throw;
        }
        using var _ = open;
        logger.LogInformation("Case feed subscriber {Consumer} from {Peer} after sequence {After} (evidence: {Evidence})",
            consumer, context.Peer, after, request.IncludeEvidence);

        var last = after;
        try
        {
            await foreach (var e in feed.EventsAsync(after, request.IncludeEvidence, ct).ConfigureAwait(false))
            {
                // Awaiting the write is the back-pressure: a slow consumer slows only its own follower.
                var message = request.IncludeEvidence
                    ? MappedWithEvidence.GetValue(e, static ev => CaseMapping.ToEvent(ev, includeEvidence: true))
                    : Mapped.GetValue(e, static ev => CaseMapping.ToEvent(ev, includeEvidence: false));
                await responseStream.WriteAsync(message, ct).ConfigureAwait(false);
                EventsSent.Inc();
                last = e.Sequence;
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
            logger.LogInformation("Case feed subscriber {Consumer} left after sequence {Last}", consumer, last);
        }
    }

    public override async Task<AckReply> Ack(AckRequest request, ServerCallContext context)
    {
        var consumer = OutsideConsumer(context, request.Consumer);
        if (string.IsNullOrWhiteSpace(consumer))
            throw new RpcException(new Status(StatusCode.InvalidArgument, "consumer is required"));
        if (request.Sequence > long.MaxValue)
            throw new RpcException(new Status(StatusCode.InvalidArgument, "sequence must be at most 2^63-1"));
        try
        {
            var acked = await feed.AckAsync(consumer, (long)request.Sequence, context.CancellationToken).ConfigureAwait(false);
            return new AckReply { AckedSequence = (ulong)acked };
        }
        catch (ArgumentException ex)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, ex.Message));
        }
    }

    public override async Task<V1.Case> ReportOutcome(OutcomeRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.CaseId))
            throw new RpcException(new Status(StatusCode.InvalidArgument, "case_id is required"));
        var by = Security.ConsumerAuthInterceptor.ConsumerFor(context, request.Consumer);
        var to = request.Outcome switch
        {
            V1.CaseState.Acknowledged => Domain.CaseState.Acknowledged,
            V1.CaseState.Closed => Domain.CaseState.Closed,
            V1.CaseState.Rejected => Domain.CaseState.Rejected,
            _ => throw new RpcException(new Status(StatusCode.InvalidArgument, "outcome must be ACKNOWLEDGED, CLOSED or REJECTED")),
        };
        try
        {
            var c = await cases.TransitionAsync(request.CaseId, to, DateTimeOffset.UtcNow, request.Note, context.CancellationToken).ConfigureAwait(false);
            logger.LogInformation("Case {Case} {State} by {Consumer}", c.Id, c.State, string.IsNullOrWhiteSpace(by) ? "(unnamed)" : by);
            return CaseMapping.ToProto(c, includeEvidence: false);
        }
        catch (KeyNotFoundException)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"no case '{request.CaseId}'"));
        }
        catch (InvalidCaseTransitionException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message));
        }
        catch (ArgumentException ex)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, ex.Message));
        }
    }

    /// <summary>
    /// The consumer a request may act as (see <see cref="Security.ConsumerAuthInterceptor.ConsumerFor"/>), never one of
    /// CitySight's own channels: an outside Ack to their cursor would make push or MQTT silently skip events.
    /// </summary>
    private string OutsideConsumer(ServerCallContext context, string requested)
    {
        var consumer = Security.ConsumerAuthInterceptor.ConsumerFor(context, requested);
        if (!string.IsNullOrWhiteSpace(consumer) && auth.IsInternal(consumer))
        {
            logger.LogWarning("Refused {Method} as consumer {Consumer} from {Peer}: that cursor belongs to CitySight's own channel",
                context.Method, consumer, context.Peer);
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"'{consumer}' is the cursor of CitySight's own push or MQTT channel and cannot be used through CaseFeed; choose another consumer name"));
        }
        return consumer;
    }

    private async Task<long> CursorOf(string consumer, CancellationToken ct)
    {
        try
        {
            return await feed.CursorAsync(consumer, ct).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, ex.Message));
        }
    }

    public override async Task<Evidence> GetEvidence(GetEvidenceRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.CaseId))
            throw new RpcException(new Status(StatusCode.InvalidArgument, "case_id is required"));

        var view = request.View switch
        {
            CitySight.Delivery.V1.EvidenceView.Best => CitySight.Cases.EvidenceView.Best,
            CitySight.Delivery.V1.EvidenceView.BestCrop => CitySight.Cases.EvidenceView.BestCrop,
            CitySight.Delivery.V1.EvidenceView.First => CitySight.Cases.EvidenceView.First,
            CitySight.Delivery.V1.EvidenceView.FirstCrop => CitySight.Cases.EvidenceView.FirstCrop,
            CitySight.Delivery.V1.EvidenceView.BeforeAfter => CitySight.Cases.EvidenceView.BeforeAfter,
            _ => throw new RpcException(new Status(StatusCode.InvalidArgument, $"view {(int)request.View} is not an EvidenceView this server knows")),
        };
        var bytes = await evidence.GetEvidenceAsync(request.CaseId, view, context.CancellationToken).ConfigureAwait(false)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"no {request.View} evidence for case '{request.CaseId}'"));
        return new Evidence
        {
            CaseId = request.CaseId,
            ContentType = CaseMapping.EvidenceContentType,
            Data = UnsafeByteOperations.UnsafeWrap(bytes),
        };
    }
}
