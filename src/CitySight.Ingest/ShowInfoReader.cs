using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Threading.Channels;
using CitySight.Domain;

namespace CitySight.Ingest;

/// <summary>One frame as announced on ffmpeg's stderr: its timestamp (null: none) and its size on the pipe.</summary>
internal readonly record struct FrameLine(TimeSpan? Pts, int Width, int Height)
{
    public int Bytes => checked(Width * Height * 3);
}

/// <summary>
/// Reads ffmpeg's stderr while frames are read from stdout. Two named showinfo filters print one line per frame:
/// `showinfo@all` sees every decoded frame (its iskey flags measure the GOP), `showinfo@out` sees exactly the frames
/// written to stdout, in the same order, and before their bytes are written — so the n-th `out` line is the n-th frame,
/// and its `s:WxH` says how many bytes that frame has (a stream may change resolution mid-way).
/// Timestamps are taken from the integer pts and the filter's time base (pts_time is printed with only 6 digits).
/// <para>
/// Lines are parsed as bytes from a pooled buffer: showinfo's several lines per frame cost no allocation. Everything
/// else (rare: the opening banner, warnings, errors) becomes a string, scrubbed of the URL's password, and is kept as
/// the tail that explains a failure; the input's "Stream #0:0: Video: …" line is parsed for the stream's description.
/// </para>
/// </summary>
internal sealed class ShowInfoReader
{
    private const int TailLines = 30;
    private const string ScriptPrefix = FfmpegInput.ScriptName + ": ";
    // Longer lines (showinfo's hex dump of SEI user data reaches ~3 kB) are cut; only their start matters.
    private const int BufferSize = 16 * 1024;

    private readonly string _url;
    private readonly Channel<FrameLine> _frames = Channel.CreateUnbounded<FrameLine>(new() { SingleReader = true, SingleWriter = true });
    private readonly Queue<string> _tail = new();
    private readonly Action<TimeSpan>? _onGop;
    private readonly byte[] _outPrefix, _allPrefix;
    private (long Num, long Den) _outBase = (1, 1), _allBase = (1, 1);
    private readonly List<TimeSpan> _keyframes = new();
    private TimeSpan? _reportedGop;
    private int _connected;
    private bool _inInput;
    private InputVideo? _input;
    private long? _declaredBitRate;

    /// <param name="outName">The instance name of the showinfo filter after the last filter (showinfo@outName).</param>
    /// <param name="allName">The instance name of the showinfo filter that sees every decoded frame.</param>
    public ShowInfoReader(string url, Action<TimeSpan>? onKeyframeInterval, string outName = "out", string allName = "all")
    {
        _url = url;
        _onGop = onKeyframeInterval;
        _outPrefix = Encoding.ASCII.GetBytes($"[showinfo@{outName} @ 0x");
        _allPrefix = Encoding.ASCII.GetBytes($"[showinfo@{allName} @ 0x");
    }

    /// <summary>
    /// Instance names for one ffmpeg run that the source cannot guess. A camera's text reaches stderr too (a title, and at
    /// verbose level the whole SDP, one raw line per line): only a line that starts with ffmpeg's own prefix for a
    /// filter whose name the camera never saw is a frame announcement.
    /// </summary>
    public static (string Out, string All) NewInstanceNames()
    {
        var nonce = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        return ($"out_{nonce}", $"all_{nonce}");
    }

    /// <summary>
    /// Whether the source answered: a TCP connection was made (ffmpeg's verbose log) or the input was opened.
    /// Tells a hung camera (stalled) from one that cannot be reached (timed out).
    /// </summary>
    public bool Connected => Volatile.Read(ref _connected) != 0;

    /// <summary>The input's video stream as ffmpeg described it when it opened the source; null until then.</summary>
    public InputVideo? Input => Volatile.Read(ref _input);

    /// <summary>Reads a stream (tests).</summary>
    public Task RunAsync(Stream stderr) => RunCoreAsync(m => stderr.ReadAsync(m));

    /// <summary>Reads ffmpeg's stderr until it ends; completes the frame queue then.</summary>
    public Task RunAsync(FfmpegProcess ffmpeg) => RunCoreAsync(ffmpeg.ReadStderrAsync);

    private Task RunCoreAsync(Func<Memory<byte>, ValueTask<int>> read) => Task.Run(async () =>
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            var filled = 0;
            var skipping = false; // inside the rest of a line longer than the buffer
            while (true)
            {
                int n;
                try
                {
                    n = await read(buffer.AsMemory(filled, BufferSize - filled)).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
                {
                    break; // the process was killed under us: what we have is all there is
                }
                if (n == 0) break;

                var end = filled + n;
                var start = 0;
                while (start < end)
                {
                    // '\r' too: a progress report ends in it, and another message may share its line.
                    var eol = buffer.AsSpan(start, end - start).IndexOfAny((byte)'\n', (byte)'\r');
                    if (eol < 0) break;
                    if (!skipping) HandleLine(buffer.AsSpan(start, eol));
                    skipping = false;
                    start += eol + 1;
                }
                var rest = end - start;
                if (rest == BufferSize)
                {
                    if (!skipping) HandleLine(buffer.AsSpan(0, rest));
                    skipping = true;
                    filled = 0;
                }
                else
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, rest);
                    filled = rest;
                }
            }
            if (filled > 0 && !skipping) HandleLine(buffer.AsSpan(0, filled));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _frames.Writer.TryComplete();
        }
    });

    /// <summary>
    /// The next frame on stdout. Available false when stderr ended first, which only happens when ffmpeg ended
    /// (or died) without writing another frame. Allocation-free when called without a cancellable token.
    /// </summary>
    public async ValueTask<(bool Available, FrameLine Frame)> NextFrameAsync()
    {
        if (await _frames.Reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false) && _frames.Reader.TryRead(out var f))
            return (true, f);
        return (false, default);
    }

    public IReadOnlyList<string> Tail()
    {
        lock (_tail) return _tail.ToArray();
    }

    /// <summary>The container's own bitrate if it states one (files), in bit/s.</summary>
    public long? DeclaredBitRate => Volatile.Read(ref _input) is { BitRate: { } b } ? b : _declaredBitRate;

    /// <summary>For tests: one line as ffmpeg prints it.</summary>
    internal void Handle(string line) => HandleLine(Encoding.UTF8.GetBytes(line));

    internal void HandleLine(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty) return;
        // The final progress report may share its line with the next message; its own text is ffmpeg's numbers only.
        var progress = line.StartsWith("frame="u8);
        var message = progress && line.IndexOf((byte)'[') is var b and >= 0 ? line[b..] : line;
        if (message.StartsWith(_outPrefix)) HandleShowInfo(message[_outPrefix.Length..], isOut: true);
        else if (message.StartsWith(_allPrefix)) HandleShowInfo(message[_allPrefix.Length..], isOut: false);
        else if (!progress) HandleDiagnostic(Secrets.Scrub(Encoding.UTF8.GetString(line), _url));
        // a progress report says nothing about failures
    }

    private void HandleShowInfo(ReadOnlySpan<byte> s, bool isOut)
    {
        // "<hex address>] " and the message.
        var close = s.IndexOf("] "u8);
        if (close <= 0 || s[..close].ContainsAnyExcept("0123456789abcdefABCDEF"u8)) return;
        s = s[(close + 2)..].TrimStart((byte)' ');

        if (s.StartsWith("config in time_base:"u8))
        {
            s = s["config in time_base:".Length..].TrimStart((byte)' ');
            if (!Utf8Parser.TryParse(s, out long num, out var used) || used >= s.Length || s[used] != '/') return;
            if (!Utf8Parser.TryParse(s[(used + 1)..], out long den, out _)) return;
            if (num <= 0 || den <= 0) return;
            if (isOut) _outBase = (num, den); else _allBase = (num, den);
            return;
        }
        if (!s.StartsWith("n:"u8)) return; // showinfo's second lines (color_range…, side data)

        TimeSpan? pts = null;
        var p = s.IndexOf("pts:"u8);
        if (p >= 0)
        {
            var v = s[(p + 4)..].TrimStart((byte)' ');
            if (!v.StartsWith("NOPTS"u8) && Utf8Parser.TryParse(v, out long raw, out _))
                pts = ToTime(raw, isOut ? _outBase : _allBase);
        }

        if (isOut)
        {
            // " s:" with its space: "pts:" also ends in "s:".
            var (w, h) = (0, 0);
            var z = s.IndexOf(" s:"u8);
            if (z >= 0)
            {
                var v = s[(z + 3)..];
                if (Utf8Parser.TryParse(v, out int pw, out var used) && used < v.Length && v[used] == 'x' &&
                    Utf8Parser.TryParse(v[(used + 1)..], out int ph, out _))
                    (w, h) = (pw, ph);
            }
            _frames.Writer.TryWrite(new FrameLine(pts, w, h));
            return;
        }

        var k = s.IndexOf("iskey:"u8);
        if (pts is { } t && k >= 0 && k + 6 < s.Length && s[k + 6] == '1') OnKeyframe(t);
    }

    private void HandleDiagnostic(string text)
    {
        // A URL read from a script on stdin (FfmpegInput) is "pipe:0" to ffmpeg: its failures name the camera again.
        if (text.StartsWith(ScriptPrefix, StringComparison.Ordinal))
            text = string.Concat(Secrets.RedactUrl(_url), text.AsSpan(FfmpegInput.ScriptName.Length));
        if (text.Contains("Successfully connected to", StringComparison.Ordinal)) Volatile.Write(ref _connected, 1);
        if (text.StartsWith("Input #", StringComparison.Ordinal))
        {
            _inInput = true;
            Volatile.Write(ref _connected, 1);
        }
        else if (text.StartsWith("Output #", StringComparison.Ordinal) || text.StartsWith("Stream mapping", StringComparison.Ordinal))
        {
            _inInput = false;
        }
        else if (_inInput)
        {
            // The first video stream of the input; -map 0:v:0 reads that one.
            if (_input is null && InputVideo.TryParse(text) is { } video) Volatile.Write(ref _input, video);
            else if (InputVideo.TryParseDurationBitRate(text) is { } b) _declaredBitRate = b;
        }

        lock (_tail)
        {
            _tail.Enqueue(text);
            while (_tail.Count > TailLines) _tail.Dequeue();
        }
    }

    private void OnKeyframe(TimeSpan t)
    {
        if (_keyframes.Count > 0 && t <= _keyframes[^1])
        {
            _keyframes.Clear(); // timestamps went back: measure afresh
        }
        _keyframes.Add(t);
        if (_keyframes.Count > 5) _keyframes.RemoveAt(0);
        if (_keyframes.Count < 3) return;

        var gop = TimeSpan.Zero;
        for (var i = 1; i < _keyframes.Count; i++)
        {
            var gap = _keyframes[i] - _keyframes[i - 1];
            if (gap > gop) gop = gap;
        }
        // Report the first measurement and real changes only (not jitter of a frame or so).
        if (_reportedGop is { } last && Math.Abs((gop - last).Ticks) <= last.Ticks / 10) return;
        _reportedGop = gop;
        try
        {
            _onGop?.Invoke(gop);
        }
        catch (Exception)
        {
            // a faulty observer must not stop the timestamps (this thread feeds every frame's pts)
        }
    }

    internal static TimeSpan ToTime(long pts, (long Num, long Den) tb) =>
        new((long)((Int128)pts * tb.Num * TimeSpan.TicksPerSecond / tb.Den));
}
