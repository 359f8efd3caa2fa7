using System.Collections.Concurrent;
using System.Diagnostics;
using CitySight.Delivery;
using CitySight.Delivery.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace CitySight.Bench;

internal static partial class FeedBench
{
    /// <summary>
    /// A few clients, each on its own connection under its own name, each keeping <see cref="FloodInFlight"/> Ack calls in
    /// flight for the newest sequence the idle subscribers have received, until stopped: the most acks the server
    /// answers, competing with case commits.
    /// </summary>
    internal sealed class AckFlood(string address, int clients, Func<long> newest)
    {
        private readonly List<GrpcChannel> _channels = [];
        private readonly ConcurrentQueue<double> _ackMs = new();
        private readonly List<Task> _loops = [];
        private long _acks, _started;

        public int Clients { get; } = clients;
        public long Acks => Interlocked.Read(ref _acks);
        public string? Error { get; private set; }

        public double[] AckMs() => [.. _ackMs];

        /// <summary>From <see cref="Start"/> to <see cref="StopAsync"/>.</summary>
        public double Seconds { get; private set; }

        public void Start(CancellationToken ct)
        {
            _started = Stopwatch.GetTimestamp();
            for (var c = 0; c < Clients; c++)
            {
                var channel = CaseFeedClient.CreateChannel(address);
                _channels.Add(channel);
                var client = new CaseFeed.CaseFeedClient(channel);
                var consumer = $"flood-{c}";
                for (var i = 0; i < FloodInFlight; i++) _loops.Add(Task.Run(() => AckLoopAsync(client, consumer, ct), CancellationToken.None));
            }
        }

        private async Task AckLoopAsync(CaseFeed.CaseFeedClient client, string consumer, CancellationToken ct)
        {
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    await client.AckAsync(new AckRequest { Consumer = consumer, Sequence = (ulong)newest() }, cancellationToken: ct);
                    _ackMs.Enqueue(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                    Interlocked.Increment(ref _acks);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                Error ??= $"{ex.GetType().Name}: {ex.Message}";
            }
        }

        /// <summary>Waits for the loops, which end with the token given to <see cref="Start"/>, and closes the connections.</summary>
        public async Task StopAsync(CancellationTokenSource stop)
        {
            Seconds = Stopwatch.GetElapsedTime(_started).TotalSeconds;
            await stop.CancelAsync();
            await Task.WhenAll(_loops);
            foreach (var c in _channels) c.Dispose();
        }
    }
}
