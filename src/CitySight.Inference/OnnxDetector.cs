using System.Diagnostics;
using CitySight.Domain;
using CitySight.Imaging;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Prometheus;

namespace CitySight.Inference;

/// <summary>
/// One ONNX session of one model, run on batches of BGR frames: letterbox each into its slot of the input tensor →
/// one run → decode each slot → per-class thresholds → class-aware NMS → boxes in each frame's own pixels.
/// Input and output tensors (one pre-made OrtValue per batch size) are allocated once; calls are serialised, so use
/// one detector per worker to run frames in parallel.
/// </summary>
public sealed class OnnxDetector : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly Letterboxer _letterboxer;
    private readonly IOutputDecoder _decoder;
    private readonly float[] _input;
    private readonly float[] _output;
    private readonly int _inputLength;
    private readonly int _outputLength;
    // [n-1] holds the tensors for a run of n frames: views over the first n slots of the same buffers.
    private readonly OrtValue[][] _inputValues;
    private readonly OrtValue[][] _outputValues;
    private readonly LetterboxTransform[] _transforms;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly string?[] _caseTypeByClass;
    private readonly float[] _confidenceByClass;
    private readonly List<Candidate> _candidates = new(1024);
    private readonly List<Candidate> _kept = new(128);
    private readonly Counter.Child _framesInferred;
    private readonly Histogram.Child _inferenceSeconds;
    private readonly Histogram.Child _batchFrames;
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <param name="modelPath">The .onnx file, normally from <see cref="ModelLocator.Locate"/>.</param>
    /// <param name="intraOpThreads">Threads for one run; 0 lets ONNX Runtime choose (all cores).</param>
    public OnnxDetector(ModelSpec spec, string modelPath, int intraOpThreads = 0)
        : this(spec, modelPath, new DetectorOptions { Threads = intraOpThreads })
    {
    }

    /// <param name="availableProviders">The build's providers; null asks ONNX Runtime (tests pass their own).</param>
    /// <exception cref="ModelMismatchException">The model's input or output does not fit <paramref name="spec"/>.</exception>
    public OnnxDetector(ModelSpec spec, string modelPath, DetectorOptions options, IReadOnlyList<string>? availableProviders = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Spec = spec;
        ModelPath = modelPath;
        Options = options;

        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = options.Threads,
        };
        // Spinning workers burn the cores that other cameras' detectors and decoders need; on a shared
        // 2-core box with spinning on, yolov8n runs were seen taking up to 4x longer.
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        Provider = ExecutionProviders.Apply(sessionOptions, options.Provider, options.DeviceId, availableProviders);
        try
        {
            _session = new InferenceSession(modelPath, sessionOptions);
        }
        catch (OnnxRuntimeException ex) when (Provider.Running != ExecutionProvider.Cpu)
        {
            // The provider loaded but the session would not start on it (driver, memory): CPU still serves.
            Provider = Provider with { Running = ExecutionProvider.Cpu, OrtName = ExecutionProviders.OrtName(ExecutionProvider.Cpu),
                FallbackReason = $"{Provider.OrtName} could not start a session: {ex.Message}; running on CPU instead" };
            sessionOptions.Dispose();
            using var cpu = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = options.Threads };
            cpu.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            _session = Load(spec, modelPath, cpu);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelMismatchException($"model '{spec.Name}': ONNX Runtime could not load {modelPath}: {ex.Message}");
        }

        try
        {
            (InputName, InputWidth, InputHeight, DynamicBatch) = CheckInput(spec, modelPath, _session);
            if (_session.OutputNames.Count < 1)
                throw new ModelMismatchException($"model '{spec.Name}' ({modelPath}) has no outputs");
            OutputName = _session.OutputNames[0];
            _inputNames = [InputName];
            _outputNames = [OutputName];
            BatchCapacity = DynamicBatch ? options.MaxBatch : 1;

            _letterboxer = new Letterboxer(spec.Input);
            _inputLength = spec.Input.TensorLength;
            _input = new float[BatchCapacity * _inputLength];
            _transforms = new LetterboxTransform[BatchCapacity];
            _inputValues = new OrtValue[BatchCapacity][];
            for (var n = 1; n <= BatchCapacity; n++)
                _inputValues[n - 1] = [OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
                    _input.AsMemory(0, n * _inputLength), [n, 3, InputHeight, InputWidth])];

            var outMeta = _session.OutputMetadata[OutputName];
            if (outMeta.ElementDataType != TensorElementType.Float)
                throw new ModelMismatchException($"model '{spec.Name}' ({modelPath}): output '{OutputName}' is {outMeta.ElementDataType}, expected float");
            var shape = outMeta.Dimensions.Select(d => (long)d).ToArray();
            if (shape.Length == 0)
                throw new ModelMismatchException($"model '{spec.Name}' ({modelPath}): output '{OutputName}' is a scalar, expected a detection tensor");
            shape[0] = 1;
            // Symbolic dims: learn the real shape from one run; it is fixed once the input size is.
            if (shape.Any(d => d <= 0)) shape = ProbeOutputShape();
            OutputShape = shape;

            try
            {
                _decoder = OutputDecoders.Create(spec.Layout, shape, spec.Classes.Count, InputWidth, InputHeight, OutputName);
            }
            catch (ModelMismatchException ex)
            {
                throw new ModelMismatchException($"model '{spec.Name}' ({modelPath}): {ex.Message}");
            }
            _outputLength = _decoder.OutputLength;
            _output = new float[BatchCapacity * _outputLength];
            _outputValues = new OrtValue[BatchCapacity][];
            for (var n = 1; n <= BatchCapacity; n++)
            {
                var s = (long[])shape.Clone();
                s[0] = n;
                _outputValues[n - 1] = [OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _output.AsMemory(0, n * _outputLength), s)];
            }
        }
        catch
        {
            DisposeNative();
            throw;
        }

        _caseTypeByClass = spec.CaseTypeByClassId();
        _confidenceByClass = spec.ConfidenceByClassId();
        _framesInferred = InferenceMetrics.FramesInferred.WithLabels(spec.Name);
        _inferenceSeconds = InferenceMetrics.InferenceSeconds.WithLabels(spec.Name);
        _batchFrames = InferenceMetrics.BatchSize.WithLabels(spec.Name);
        InferenceMetrics.Provider.WithLabels(spec.Name, ExecutionProviders.OrtName(Provider.Requested), Provider.OrtName).Set(1);
    }

    private static InferenceSession Load(ModelSpec spec, string path, SessionOptions options)
    {
        try
        {
            return new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelMismatchException($"model '{spec.Name}': ONNX Runtime could not load {path}: {ex.Message}");
        }
    }

    public ModelSpec Spec { get; }
    public string ModelPath { get; }
    public DetectorOptions Options { get; }

    /// <summary>The provider really running this model, and the reason when it is not the one configured.</summary>
    public ProviderChoice Provider { get; }

    public string InputName { get; }
    public int InputWidth { get; }
    public int InputHeight { get; }
    public string OutputName { get; }

    /// <summary>Output shape of one image (batch dimension 1).</summary>
    public IReadOnlyList<long> OutputShape { get; }

    /// <summary>The model's batch dimension is symbolic, so one run may take several frames.</summary>
    public bool DynamicBatch { get; }

    /// <summary>Most frames one run takes: <see cref="DetectorOptions.MaxBatch"/> for a dynamic-batch model, else 1.</summary>
    public int BatchCapacity { get; }

    /// <summary>The layout in use: the manifest's, or the one told from the output shape when it says auto.</summary>
    public OutputLayout OutputLayout => _decoder.Layout;

    public IReadOnlyList<Detection> Detect(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return Detect(frame.Bgr, frame.Width, frame.Height);
    }

    /// <summary>Detections on a tightly packed BGR24 picture, boxes in its pixels, best first.</summary>
    public IReadOnlyList<Detection> Detect(ReadOnlySpan<byte> bgr, int width, int height)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var start = Stopwatch.GetTimestamp();
            _transforms[0] = _letterboxer.Process(bgr, width, height, _input.AsSpan(0, _inputLength));
            Run(1);
            var result = Collect(0);
            Observe(1, start);
            return result;
        }
    }

    /// <summary>
    /// Detects on up to <see cref="BatchCapacity"/> frames in one run; <paramref name="results"/>[i] gets the
    /// detections of <paramref name="frames"/>[i], in that frame's pixels.
    /// </summary>
    public void Detect(ReadOnlySpan<Frame> frames, Span<IReadOnlyList<Detection>> results)
    {
        if (frames.Length == 0) return;
        if (frames.Length > BatchCapacity)
            throw new ArgumentException($"{frames.Length} frames, but model '{Spec.Name}' takes at most {BatchCapacity} per run", nameof(frames));
        if (results.Length < frames.Length)
            throw new ArgumentException("fewer result slots than frames", nameof(results));
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < frames.Length; i++)
            {
                var f = frames[i];
                _transforms[i] = _letterboxer.Process(f.Bgr, f.Width, f.Height, _input.AsSpan(i * _inputLength, _inputLength));
            }
            Run(frames.Length);
            for (var i = 0; i < frames.Length; i++) results[i] = Collect(i);
            Observe(frames.Length, start);
        }
    }

    /// <summary>
    /// A bare model run over whatever the first <paramref name="batch"/> input slots hold (the last frames detected):
    /// no letterbox, no decode. The baseline the bench compares the whole pipeline with.
    /// </summary>
    public void RunPrepared(int batch)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batch, BatchCapacity);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Run(batch);
        }
    }

    private void Run(int n) =>
        _session.Run(_runOptions, _inputNames, _inputValues[n - 1], _outputNames, _outputValues[n - 1]);

    private IReadOnlyList<Detection> Collect(int slot)
    {
        _candidates.Clear();
        _kept.Clear();
        _decoder.Decode(_output.AsSpan(slot * _outputLength, _outputLength), Spec.MinConfidence, _candidates);

        // Per-class thresholds: the decoder used the lowest, so drop what is below its own class's.
        var w = 0;
        for (var r = 0; r < _candidates.Count; r++)
        {
            var c = _candidates[r];
            if (c.Score > _confidenceByClass[c.ClassId]) _candidates[w++] = c;
        }
        _candidates.RemoveRange(w, _candidates.Count - w);

        if (_decoder.IncludesNms) Nms.TopK(_candidates, Spec.MaxDetections, _kept);
        else Nms.Apply(_candidates, Spec.NmsIou, Spec.MaxDetections, _kept);

        var transform = _transforms[slot];
        var count = 0;
        foreach (var k in _kept)
        {
            var box = transform.ToSource(k.Box);
            // Wholly in the padding: nothing of it is in the picture.
            if (box.Width > 0 && box.Height > 0) count++;
        }
        if (count == 0) return [];
        var result = new Detection[count];
        var j = 0;
        foreach (var k in _kept)
        {
            var box = transform.ToSource(k.Box);
            if (box.Width <= 0 || box.Height <= 0) continue;
            result[j++] = new Detection(k.ClassId, Spec.Classes[k.ClassId], k.Score, box, _caseTypeByClass[k.ClassId]);
        }
        return result;
    }

    private void Observe(int frames, long start)
    {
        _framesInferred.Inc(frames);
        _batchFrames.Observe(frames);
        _inferenceSeconds.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    private static (string Name, int Width, int Height, bool DynamicBatch) CheckInput(ModelSpec spec, string path, InferenceSession session)
    {
        if (session.InputNames.Count != 1)
            throw new ModelMismatchException(
                $"model '{spec.Name}' ({path}) has {session.InputNames.Count} inputs ({string.Join(", ", session.InputNames)}); expected one image input float [N,3,H,W]");
        var name = session.InputNames[0];
        var meta = session.InputMetadata[name];
        var d = meta.Dimensions;
        var found = "[" + string.Join(",", d.Select(x => x <= 0 ? "?" : x.ToString())) + "]";
        if (meta.ElementDataType != TensorElementType.Float || d.Length != 4
            || (d[0] > 0 && d[0] != 1) || (d[1] > 0 && d[1] != 3))
            throw new ModelMismatchException(
                $"model '{spec.Name}' ({path}): input '{name}' is {meta.ElementDataType} {found}; expected float [1,3,H,W] or [batch,3,H,W]");
        if ((d[2] > 0 && d[2] != spec.Input.Height) || (d[3] > 0 && d[3] != spec.Input.Width))
            throw new ModelMismatchException(
                $"model '{spec.Name}' ({path}): input '{name}' is {found} but the manifest says input width {spec.Input.Width}, height {spec.Input.Height}; fix input: in the manifest");
        return (name, spec.Input.Width, spec.Input.Height, d[0] <= 0);
    }

    private long[] ProbeOutputShape()
    {
        using var outputs = _session.Run(_runOptions, _inputNames, _inputValues[0], _outputNames);
        return outputs[0].GetTensorTypeAndShape().Shape;
    }

    private void DisposeNative()
    {
        _session?.Dispose();
        _runOptions.Dispose();
        _letterboxer?.Dispose();
        foreach (var set in (OrtValue[][]?[])[_inputValues, _outputValues])
            if (set is not null)
                foreach (var values in set)
                    if (values is not null)
                        foreach (var v in values) v?.Dispose();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            DisposeNative();
        }
    }
}
