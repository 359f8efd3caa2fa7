using System.Diagnostics;
using System.Globalization;

namespace CitySight.Bench;

internal static partial class FeedBench
{
    /// <summary>The idle subscribers of one loaded phase, wherever they run.</summary>
    private interface IIdleSubscribers : IAsyncDisposable
    {
        int Channels { get; }
        /// <summary>Resident bytes of the process the clients run in, when that is not the bench's own; else null.</summary>
        long? ClientResidentBytes { get; }
        Task ReadyAsync(TimeSpan timeout, CancellationToken ct);
        /// <summary>Sequences first .. first + count - 1 are due; with flood clients, they start acking what arrives.</summary>
        Task ExpectAsync(long first, int count, int floodClients);
        Task<IdleCounts> FinishAsync(TimeSpan timeout, CancellationToken ct);
    }

    /// <summary>The clients in the bench's own process: they then share its CPU, thread pool and garbage collector with the server.</summary>
    private sealed class InProcessIdle(string address, int count, long after, CancellationToken ct) : IIdleSubscribers
    {
        private readonly IdleGroup _group = new(address, count, after, ct);
        private readonly CancellationTokenSource _floodStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        private AckFlood? _flood;

        public int Channels => _group.Channels;
        public long? ClientResidentBytes => null;
        public Task ReadyAsync(TimeSpan timeout, CancellationToken ct) => _group.Ready.WaitAsync(timeout, ct);

        public Task ExpectAsync(long first, int count, int floodClients)
        {
            _group.Expect(first, count);
            if (floodClients > 0)
            {
                _flood = new AckFlood(address, floodClients, () => _group.Newest);
                _flood.Start(_floodStop.Token);
            }
            return Task.CompletedTask;
        }

        public async Task<IdleCounts> FinishAsync(TimeSpan timeout, CancellationToken ct)
        {
            try
            {
                await _group.Done.WaitAsync(timeout, ct);
            }
            catch (TimeoutException)
            {
                // what did not arrive is counted as lost
            }
            return await WithFloodAsync(_group.Counts(), _flood, _floodStop);
        }

        public async ValueTask DisposeAsync()
        {
            await _floodStop.CancelAsync();
            await _group.DisposeAsync();
            _floodStop.Dispose();
        }
    }

    /// <summary>
    /// The clients in a child process (`citysight bench-feed --idle-client ADDRESS ...`), as remote subscribers would be: the
    /// server's process then holds and collects only its own side of each stream. Lines on the child's stdin/stdout:
    /// "ready RSS" once every stream has its first event; "expect FIRST COUNT"; "done LOST DUPLICATES FAILED [ERROR]"
    /// once every stream has them, or when told "stop".
    /// </summary>
    private sealed class IdleClientProcess : IIdleSubscribers
    {
        private readonly Process _process;
        private readonly Task<string> _stderr;
        private readonly int _count;

        private const string Nice = "/usr/bin/nice";

        public IdleClientProcess(IReadOnlyList<string> command, string address, int count, long after, int nice)
        {
            _count = count;
            // At the lowest CPU priority: remote consumers run on their own machines, and on a two-core bench box their
            // side of 2,000 streams (all that receiving and parsing) would otherwise be charged to the server's commits.
            var niced = nice > 0 && File.Exists(Nice);
            var start = new ProcessStartInfo(niced ? Nice : command[0])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            if (niced) foreach (var a in new[] { "-n", nice.ToString(CultureInfo.InvariantCulture), command[0] }) start.ArgumentList.Add(a);
            foreach (var a in command.Skip(1)) start.ArgumentList.Add(a);
            foreach (var a in new[] { "bench-feed", "--idle-client", address, "--idle-subscribers", I(count), "--idle-after", I(after) })
                start.ArgumentList.Add(a);
            _process = Process.Start(start) ?? throw new BenchException($"cannot start {command[0]} for the idle subscribers");
            _stderr = _process.StandardError.ReadToEndAsync();
        }

        public int Channels => (_count + StreamsPerChannel - 1) / StreamsPerChannel;
        public long? ClientResidentBytes { get; private set; }

        public async Task ReadyAsync(TimeSpan timeout, CancellationToken ct)
        {
            var words = await ReadAsync("ready", timeout, ct);
            ClientResidentBytes = long.Parse(words[1], CultureInfo.InvariantCulture);
        }

        public async Task ExpectAsync(long first, int count, int floodClients)
        {
            await _process.StandardInput.WriteLineAsync($"expect {I(first)} {I(count)} {I(floodClients)}");
            await _process.StandardInput.FlushAsync();
        }

        public async Task<IdleCounts> FinishAsync(TimeSpan timeout, CancellationToken ct)
        {
            var done = ReadDoneAsync(ct);
            if (await Task.WhenAny(done, Task.Delay(timeout, ct)) != done)
            {
                await _process.StandardInput.WriteLineAsync("stop");
                await _process.StandardInput.FlushAsync(ct);
            }
            return await done.WaitAsync(TimeSpan.FromSeconds(30), ct);
        }

        /// <summary>"acks SECONDS MS MS ...", then "done LOST DUPLICATES FAILED ACKS [ERROR]".</summary>
        private async Task<IdleCounts> ReadDoneAsync(CancellationToken ct)
        {
            var a = await ReadAsync("acks", Timeout.InfiniteTimeSpan, ct);
            var w = await ReadAsync("done", TimeSpan.FromSeconds(30), ct);
            var error = w.Length > 5 ? string.Join(' ', w[5..]) : null;
            return new IdleCounts(long.Parse(w[1], CultureInfo.InvariantCulture), long.Parse(w[2], CultureInfo.InvariantCulture),
                int.Parse(w[3], CultureInfo.InvariantCulture), error is null || error.StartsWith("ack:", StringComparison.Ordinal) ? null : error,
                long.Parse(w[4], CultureInfo.InvariantCulture), double.Parse(a[1], CultureInfo.InvariantCulture),
                a[2..].Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray(),
                error is not null && error.StartsWith("ack:", StringComparison.Ordinal) ? error : null);
        }

        private async Task<string[]> ReadAsync(string word, TimeSpan timeout, CancellationToken ct)
        {
            var line = await _process.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(timeout, ct);
            var words = line?.Split(' ') ?? [];
            if (words.Length < 2 || words[0] != word)
            {
                var err = _process.HasExited ? await _stderr : "";
                throw new BenchException($"the idle subscribers' process said \"{line}\" instead of \"{word} ...\" {err.Trim()}");
            }
            return words;
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                _process.StandardInput.Close(); // the child ends its streams and exits
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
            {
                if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            }
            _process.Dispose();
        }

        private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Stops the flood (when there is one) and adds what it did to <paramref name="c"/>.</summary>
    private static async Task<IdleCounts> WithFloodAsync(IdleCounts c, AckFlood? flood, CancellationTokenSource stop)
    {
        if (flood is null) return c;
        await flood.StopAsync(stop);
        return c with { Acks = flood.Acks, AckSeconds = flood.Seconds, AckMs = flood.AckMs(), AckError = flood.Error };
    }

    /// <summary>
    /// The child's side of <see cref="IdleClientProcess"/>: <paramref name="count"/> idle subscribers to <paramref name="address"/>
    /// from <paramref name="after"/>, driven by lines on <paramref name="input"/>, answered on <paramref name="output"/>.
    /// </summary>
    public static async Task RunIdleClientAsync(string address, int count, long after, TextReader input, TextWriter output, CancellationToken ct)
    {
        await using var group = new IdleGroup(address, count, after, ct);
        await group.Ready.WaitAsync(ct);
        Settle();
        await output.WriteLineAsync($"ready {ProcessUsage.RssBytes(ProcessUsage.Self).ToString(CultureInfo.InvariantCulture)}");
        await output.FlushAsync(ct);
        // Console.In reads synchronously even through ReadLineAsync: each read gets a thread of its own, so waiting for
        // "stop" never holds up the "done" that may come first.
        while (await Task.Run(input.ReadLine, ct) is { } line)
        {
            var words = line.Split(' ');
            if (words is not ["expect", var first, var cases, var clients]) continue;
            group.Expect(long.Parse(first, CultureInfo.InvariantCulture), int.Parse(cases, CultureInfo.InvariantCulture));
            var floodClients = int.Parse(clients, CultureInfo.InvariantCulture);
            using var floodStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var flood = floodClients > 0 ? new AckFlood(address, floodClients, () => group.Newest) : null;
            flood?.Start(floodStop.Token);
            var stop = Task.Run(input.ReadLine, CancellationToken.None); // "stop", or the end of input
            await Task.WhenAny(group.Done, stop);
            var c = await WithFloodAsync(group.Counts(), flood, floodStop);
            await output.WriteLineAsync("acks " + string.Join(' ', new[] { c.AckSeconds }.Concat(c.AckMs).Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
            var error = c.FirstError ?? (c.AckError is null ? null : "ack: " + c.AckError);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"done {c.Lost} {c.Duplicates} {c.Failed} {c.Acks} {error}").TrimEnd());
            await output.FlushAsync(ct);
            await stop; // then end
            return;
        }
    }
}
