using System.Diagnostics;
using System.Threading.Channels;
using CitySight.Domain;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CitySight.Inference;

/// <summary>Receives each frame back from a <see cref="BatchingDetector"/>, with its detections or the failure.</summary>
/// <remarks>Called on the detector's own loop: return quickly and do not throw.</remarks>
public interface IDetectionSink
{
    void OnDetected(Frame frame, ModelSpec model, IReadOnlyList<Detection> detections);

    void OnFailed(Frame frame, ModelSpec model, Exception error);
}

/// <summary>
/// One model shared by every camera: frames from many cameras queue up and are gathered into one run of up to
/// <see cref="DetectorOptions.MaxBatch"/> frames, or fewer when <see cref="DetectorOptions.MaxWait"/> passes first
/// (DeepStream's stream muxer works the same way). A model with a fixed batch of 1 runs that many sessions in
/// parallel instead. Each frame goes back to its own sink with its own detections, so cameras never mix.
/// </summary>
public sealed class BatchingDetector : IAsyncDisposable
{
    private readonly record struct Request(Frame Frame, IDetectionSink Sink);

    private readonly Channel<Request> _queue;
    private readonly OnnxDetector[] _sessions;
    private readonly Task[] _loops;
    private readonly long _maxWaitTicks;
    private long _runs;
    private long _frames;

    /// <exception cref="ModelMismatchException">The model does not fit its manifest entry.</exception>
    public BatchingDetector(ModelSpec spec, string modelPath, DetectorOptions options, ILogger? logger = null,
        IReadOnlyList<string>? availableProviders = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        logger ??= NullLogger.Instance;
        var first = new OnnxDetector(spec, modelPath, options, availableProviders);
        var instances = options.Instances;
        if (!first.DynamicBatch && options.MaxBatch > 1)
        {
            instances = Math.Max(instances, options.MaxBatch);
            logger.LogWarning("Model {Model} has a fixed batch of 1: max_batch {Batch} runs as {Instances} sessions in parallel instead",
                spec.Name, options.MaxBatch, instances);
        }

        _sessions = new OnnxDetector[instances];
        _sessions[0] = first;
        try
        {
            for (var i = 1; i < instances; i++) _sessions[i] = new OnnxDetector(spec, modelPath, options, availableProviders);
        }
        catch
        {
            foreach (var s in _sessions) s?.Dispose();
            throw;
        }

        Spec = spec;
        Options = options;
        _maxWaitTicks = (long)(options.MaxWait.TotalSeconds * Stopwatch.Frequency);
        // Room for one full batch per session: more would only queue frames that the per-camera mailboxes
        // upstream can drop (newest wins) far more usefully.
        _queue = Channel.CreateBounded<Request>(new BoundedChannelOptions(instances * first.BatchCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
        });
        _loops = _sessions.Select(s => Task.Run(() => LoopAsync(s))).ToArray();
    }

    public ModelSpec Spec { get; }
    public DetectorOptions Options { get; }

    /// <summary>The provider each session really runs on (they all got the same).</summary>
    public ProviderChoice Provider => _sessions[0].Provider;

    public OutputLayout OutputLayout => _sessions[0].OutputLayout;
    public bool DynamicBatch => _sessions[0].DynamicBatch;

    /// <summary>Frames one run takes.</summary>
    public int BatchCapacity => _sessions[0].BatchCapacity;

    /// <summary>Sessions running side by side.</summary>
    public int Instances => _sessions.Length;

    public long Runs => Interlocked.Read(ref _runs);
    public long Frames => Interlocked.Read(ref _frames);

    /// <summary>Mean frames per run over <see cref="BatchCapacity"/>: 1 when every run was full.</summary>
    public double MeanBatchFill => Runs == 0 ? 0 : (double)Frames / Runs / BatchCapacity;

    /// <summary>Queues a frame; waits while every session has a full batch waiting. The sink then owns the frame.</summary>
    public ValueTask SubmitAsync(Frame frame, IDetectionSink sink, CancellationToken ct = default) =>
        _queue.Writer.WriteAsync(new Request(frame, sink), ct);

    /// <summary>No more frames: the queued ones are still detected, then <see cref="Completion"/> ends.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    public Task Completion => Task.WhenAll(_loops);

    private async Task LoopAsync(OnnxDetector session)
    {
        var capacity = session.BatchCapacity;
        var frames = new Frame[capacity];
        var sinks = new IDetectionSink[capacity];
        var results = new IReadOnlyList<Detection>[capacity];
        var reader = _queue.Reader;
        CancellationTokenSource? timer = null;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                var n = 0;
                while (n < capacity && reader.TryRead(out var r))
                {
                    frames[n] = r.Frame;
                    sinks[n++] = r.Sink;
                }
                if (n == 0) continue;

                if (n < capacity && _maxWaitTicks > 0)
                {
                    var deadline = Stopwatch.GetTimestamp() + _maxWaitTicks;
                    while (n < capacity)
                    {
                        if (reader.TryRead(out var r))
                        {
                            frames[n] = r.Frame;
                            sinks[n++] = r.Sink;
                            continue;
                        }
                        var left = deadline - Stopwatch.GetTimestamp();
                        if (left <= 0) break;
                        if (timer is null || !timer.TryReset())
                        {
                            timer?.Dispose();
                            timer = new CancellationTokenSource();
                        }
                        timer.CancelAfter(TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
                        try
                        {
                            if (!await reader.WaitToReadAsync(timer.Token).ConfigureAwait(false)) break;
                        }
                        catch (OperationCanceledException)
                        {
                            break;
                        }
                    }
                }

                Exception? failure = null;
                try
                {
                    session.Detect(frames.AsSpan(0, n), results);
                }
                catch (Exception ex)
                {
                    failure = ex;
                }
                Interlocked.Increment(ref _runs);
                Interlocked.Add(ref _frames, n);
                for (var i = 0; i < n; i++)
                {
                    try
                    {
                        if (failure is null) sinks[i].OnDetected(frames[i], Spec, results[i]);
                        else sinks[i].OnFailed(frames[i], Spec, failure);
                    }
                    catch
                    {
                        // A sink that throws must not stop the other cameras' frames.
                    }
                }
                Array.Clear(frames, 0, n);
                Array.Clear(sinks, 0, n);
                Array.Clear(results, 0, n);
            }
        }
        finally
        {
            timer?.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Complete();
        try
        {
            await Completion.ConfigureAwait(false);
        }
        finally
        {
            foreach (var s in _sessions) s.Dispose();
        }
    }
}
