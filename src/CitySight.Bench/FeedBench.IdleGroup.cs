using System.Buffers;
using System.Runtime.CompilerServices;
using CitySight.Delivery;
using CitySight.Delivery.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace CitySight.Bench;

internal static partial class FeedBench
{
    /// <summary>What the idle subscribers of one loaded phase got (events missing, repeated, streams that failed), and their ack flood.</summary>
    internal sealed record IdleCounts(long Lost, long Duplicates, int Failed, string? FirstError, long Acks, double AckSeconds, double[] AckMs,
        string? AckError);

    /// <summary>
    /// N idle subscribers (real gRPC streams, one channel per 100), each from the same sequence, in this process: used by
    /// the child process of <see cref="IdleClientProcess"/> and, when the bench has no command to start one, by the bench itself.
    /// </summary>
    internal sealed class IdleGroup : IAsyncDisposable
    {
        private readonly List<IdleSubscriber> _subscribers;
        private readonly List<GrpcChannel> _channels;
        private readonly List<Task> _loops;
        private readonly CancellationTokenSource _stop;
        private readonly StrongBox<long> _newest = new();

        public IdleGroup(string address, int count, long after, CancellationToken ct)
        {
            _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            _channels = Enumerable.Range(0, (count + StreamsPerChannel - 1) / StreamsPerChannel).Select(_ => CaseFeedClient.CreateChannel(address)).ToList();
            _subscribers = Enumerable.Range(0, count).Select(i => new IdleSubscriber($"idle-{i:D5}", after + 1, _newest)).ToList();
            _loops = _subscribers.Select((s, i) => Task.Run(() => s.RunAsync(_channels[i / StreamsPerChannel], after, _stop.Token), CancellationToken.None))
                .ToList();
        }

        public int Channels => _channels.Count;

        /// <summary>The highest sequence any of the subscribers has received: what an ack may name.</summary>
        public long Newest => Volatile.Read(ref _newest.Value);

        /// <summary>Every subscriber has the event after its start (or has failed).</summary>
        public Task Ready => Task.WhenAll(_subscribers.Select(s => s.Ready.Task));

        /// <summary>Every subscriber has every expected event (or has failed).</summary>
        public Task Done => Task.WhenAll(_subscribers.Select(s => s.Done.Task));

        public void Expect(long first, int count)
        {
            foreach (var s in _subscribers) s.Expect(first, count);
        }

        public IdleCounts Counts()
        {
            var failed = _subscribers.Where(s => s.Error is not null).ToList();
            return new IdleCounts(_subscribers.Sum(s => (long)s.Missing), _subscribers.Sum(s => (long)s.Duplicates), failed.Count,
                failed.FirstOrDefault()?.Error, 0, 0, [], null);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_loops);
            foreach (var c in _channels) c.Dispose();
            _stop.Dispose();
        }
    }

    /// <summary>
    /// CaseFeed.Subscribe as the idle subscribers call it: the same request and wire messages, but each event read only
    /// for its sequence, so the bench's own clients cost little beside the server they measure.
    /// </summary>
    private static readonly Method<SubscribeRequest, EventSequence> SubscribeSequences = new(
        MethodType.ServerStreaming, CaseFeed.Descriptor.FullName, "Subscribe",
        Marshallers.Create(r => r.ToByteArray(), SubscribeRequest.Parser.ParseFrom),
        Marshallers.Create<EventSequence>((_, _) => throw new NotSupportedException("the bench only reads events"),
            ctx => SequenceOf(ctx.PayloadAsReadOnlySequence())));

    /// <summary>
    /// CaseEvent.sequence of a serialized CaseEvent, read in place: field 1 is written first (fields go in number order,
    /// and a sequence is never 0, so never left out); anything else is parsed in full.
    /// </summary>
    private static EventSequence SequenceOf(ReadOnlySequence<byte> message)
    {
        var reader = new SequenceReader<byte>(message);
        if (reader.TryRead(out var tag) && tag == 8)
        {
            ulong value = 0;
            for (var shift = 0; shift < 64 && reader.TryRead(out var b); shift += 7)
            {
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return new EventSequence((long)value);
            }
        }
        return new EventSequence((long)CaseEvent.Parser.ParseFrom(message).Sequence);
    }

    private sealed record EventSequence(long Value);

    /// <summary>A subscriber that only listens: counts what it gets of the loaded phase's sequences, and any repeat.</summary>
    private sealed class IdleSubscriber(string name, long readySequence, StrongBox<long> newest)
    {
        private long _first = long.MaxValue, _last;
        private int _expected, _received;

        public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Duplicates { get; private set; }
        public int Missing => Math.Max(Volatile.Read(ref _expected) - Volatile.Read(ref _received), 0);
        public string? Error { get; private set; }

        /// <summary>Set before the loaded phase commits its first case: sequences first .. first + count - 1 are due.</summary>
        public void Expect(long first, int count)
        {
            Volatile.Write(ref _first, first);
            Volatile.Write(ref _expected, count);
        }

        public async Task RunAsync(GrpcChannel channel, long after, CancellationToken ct)
        {
            try
            {
                using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(SubscribeSequences, null, new CallOptions(cancellationToken: ct),
                    new SubscribeRequest { Consumer = name, AfterSequence = (ulong)after });
                while (await call.ResponseStream.MoveNext(ct))
                {
                    var seq = call.ResponseStream.Current.Value;
                    if (seq <= _last)
                    {
                        Duplicates++; // a repeat, or an event out of order
                        continue;
                    }
                    _last = seq;
                    for (var n = Volatile.Read(ref newest.Value); seq > n; n = Volatile.Read(ref newest.Value))
                        if (Interlocked.CompareExchange(ref newest.Value, seq, n) == n) break;
                    if (seq == readySequence) Ready.TrySetResult();
                    var first = Volatile.Read(ref _first);
                    if (seq >= first && seq < first + Volatile.Read(ref _expected) && Interlocked.Increment(ref _received) == _expected)
                        Done.TrySetResult();
                }
                Error ??= "the stream ended";
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                Error = $"{ex.GetType().Name}: {ex.Message}";
            }
            finally
            {
                Ready.TrySetResult();
                Done.TrySetResult();
            }
        }
    }
}
