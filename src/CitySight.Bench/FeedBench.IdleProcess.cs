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
        Task ExpectAsync(long first, int count);
        Task<IdleCounts> FinishAsync(TimeSpan timeout, CancellationToken ct);
    }

    /// <summary>The clients in the bench's own process: they then share its CPU, thread pool and garbage collector with the server.</summary>
    private sealed class InProcessIdle(string address, int count, long after, CancellationToken ct) : IIdleSubscribers
    {
        private readonly IdleGroup _group = new(address, count, after, ct);

        public int Channels => _group.Channels;
        public long? ClientResidentBytes => null;
        public Task ReadyAsync(TimeSpan timeout, CancellationToken ct) => _group.Ready.WaitAsync(timeout, ct);

        public Task ExpectAsync(long first, int count)
        {
            _group.Expect(first, count);
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
            return _group.Counts();
        }

        public ValueTask DisposeAsync() => _group.DisposeAsync();
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

        public IdleClientProcess(IReadOnlyList<string> command, string address, int count, long after)
        {
            _count = count;
            var start = new ProcessStartInfo(command[0])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
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

        public async Task ExpectAsync(long first, int count)
        {
            await _process.StandardInput.WriteLineAsync($"expect {I(first)} {I(count)}");
            await _process.StandardInput.FlushAsync();
        }

        public async Task<IdleCounts> FinishAsync(TimeSpan timeout, CancellationToken ct)
        {
            var done = ReadAsync("done", Timeout.InfiniteTimeSpan, ct);
            if (await Task.WhenAny(done, Task.Delay(timeout, ct)) != done)
            {
                await _process.StandardInput.WriteLineAsync("stop");
                await _process.StandardInput.FlushAsync(ct);
            }
            var w = await done.WaitAsync(TimeSpan.FromSeconds(30), ct);
            return new IdleCounts(long.Parse(w[1], CultureInfo.InvariantCulture), long.Parse(w[2], CultureInfo.InvariantCulture),
                int.Parse(w[3], CultureInfo.InvariantCulture), w.Length > 4 ? string.Join(' ', w[4..]) : null);
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
        while (await input.ReadLineAsync(ct) is { } line)
        {
            var words = line.Split(' ');
            if (words is not ["expect", var first, var cases]) continue;
            group.Expect(long.Parse(first, CultureInfo.InvariantCulture), int.Parse(cases, CultureInfo.InvariantCulture));
            var stop = input.ReadLineAsync(ct).AsTask(); // "stop", or the end of input
            await Task.WhenAny(group.Done, stop);
            var c = group.Counts();
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"done {c.Lost} {c.Duplicates} {c.Failed} {c.FirstError}").TrimEnd());
            await output.FlushAsync(ct);
            await stop; // then end
            return;
        }
    }
}
