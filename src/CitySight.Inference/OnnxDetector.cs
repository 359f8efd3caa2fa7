using System.Diagnostics;
using CitySight.Domain;
using CitySight.Imaging;
using Microsoft.ML.OnnxRuntime;
using Prometheus;

namespace CitySight.Inference;

/// <summary>
/// Runs one ONNX detector on BGR frames: letterbox → model → decode → class-aware NMS → boxes in source pixels.
/// Input and output tensors are allocated once; calls are serialised (one run at a time per detector), so use
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
    private readonly OrtValue[] _inputValues;
    private readonly OrtValue[] _outputValues;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly string?[] _caseTypeByClass;
    private readonly List<Candidate> _candidates = new(1024);
    private readonly List<Candidate> _kept = new(128);
    private readonly Counter.Child _framesInferred;
    private readonly Histogram.Child _inferenceSeconds;
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <param name="modelPath">The .onnx file, normally from <see cref="ModelLocator.Locate"/>.</param>
    /// <param name="intraOpThreads">Threads for one run; 0 lets ONNX Runtime choose (all cores).</param>
    /// <exception cref="ModelMismatchException">The model's input or output does not fit <paramref name="spec"/>.</exception>
    public OnnxDetector(ModelSpec spec, string modelPath, int intraOpThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegative(intraOpThreads);
        Spec = spec;
        ModelPath = modelPath;

        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = intraOpThreads,
        };
        // Spinning workers burn the cores that other cameras' detectors and decoders need; on a shared
        // 2-core box with spinning on, yolov8n runs were seen taking up to 4x longer.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        try
        {
            _session = new InferenceSession(modelPath, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelMismatchException($"model '{spec.Name}': ONNX Runtime could not load {modelPath}: {ex.Message}");
        }

        try
        {
            (InputName, InputWidth, InputHeight) = CheckInput(spec, _session);
            OutputName = _session.OutputNames[0];
            _inputNames = [InputName];
            _outputNames = [OutputName];

            _letterboxer = new Letterboxer(spec.Input);
            _input = new float[spec.Input.TensorLength];
            _inputValues = [OrtValue.CreateTensorValueFromMemory(_input, [1, 3, InputHeight, InputWidth])];

            var outMeta = _session.OutputMetadata[OutputName];
            if (outMeta.ElementDataType != Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float)
                throw new ModelMismatchException($"model '{spec.Name}' ({modelPath}): output '{OutputName}' is {outMeta.ElementDataType}, expected float");
            var shape = outMeta.Dimensions.Select(d => (long)d).ToArray();
            // Symbolic dims: learn the real shape from one run; it is fixed once the input size is.
            if (shape.Any(d => d <= 0)) shape = ProbeOutputShape();
            OutputShape = shape;

            try
            {
                _decoder = OutputDecoders.Create(spec.Layout, shape, spec.Classes.Count, OutputName);
            }
            catch (ModelMismatchException ex)
            {
                throw new ModelMismatchException($"model '{spec.Name}' ({modelPath}): {ex.Message}");
            }
            _output = new float[_decoder.OutputLength];
            _outputValues = [OrtValue.CreateTensorValueFromMemory(_output, shape)];
        }
        catch
        {
            _session.Dispose();
            _runOptions.Dispose();
            _letterboxer?.Dispose();
            if (_inputValues is not null) foreach (var v in _inputValues) v.Dispose();
            throw;
        }

        _caseTypeByClass = spec.CaseTypeByClassId();
        _framesInferred = InferenceMetrics.FramesInferred.WithLabels(spec.Name);
        _inferenceSeconds = InferenceMetrics.InferenceSeconds.WithLabels(spec.Name);
    }

    public ModelSpec Spec { get; }
    public string ModelPath { get; }
    public string InputName { get; }
    public int InputWidth { get; }
    public int InputHeight { get; }
    public string OutputName { get; }
    public IReadOnlyList<long> OutputShape { get; }

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

            var transform = _letterboxer.Process(bgr, width, height, _input);
            _session.Run(_runOptions, _inputNames, _inputValues, _outputNames, _outputValues);

            _candidates.Clear();
            _kept.Clear();
            _decoder.Decode(_output, Spec.Confidence, _candidates);
            Nms.Apply(_candidates, Spec.NmsIou, Spec.MaxDetections, _kept);

            var result = new List<Detection>(_kept.Count);
            foreach (var k in _kept)
            {
                var box = transform.ToSource(k.Box);
                // Wholly in the padding: nothing of it is in the picture.
                if (box.Width <= 0 || box.Height <= 0) continue;
                result.Add(new Detection(k.ClassId, Spec.Classes[k.ClassId], k.Score, box, _caseTypeByClass[k.ClassId]));
            }

            _framesInferred.Inc();
            _inferenceSeconds.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
            return result;
        }
    }

    private static (string Name, int Width, int Height) CheckInput(ModelSpec spec, InferenceSession session)
    {
        if (session.InputNames.Count != 1)
            throw new ModelMismatchException(
                $"model '{spec.Name}' has {session.InputNames.Count} inputs ({string.Join(", ", session.InputNames)}); expected one image input");
        var name = session.InputNames[0];
        var meta = session.InputMetadata[name];
        var d = meta.Dimensions;
        var found = "[" + string.Join(",", d.Select(x => x <= 0 ? "?" : x.ToString())) + "]";
        if (meta.ElementDataType != Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float || d.Length != 4
            || (d[0] > 0 && d[0] != 1) || (d[1] > 0 && d[1] != 3))
            throw new ModelMismatchException(
                $"model '{spec.Name}': input '{name}' is {meta.ElementDataType} {found}; expected float [1,3,H,W]");
        if ((d[2] > 0 && d[2] != spec.Input.Height) || (d[3] > 0 && d[3] != spec.Input.Width))
            throw new ModelMismatchException(
                $"model '{spec.Name}': input '{name}' is {found} but the manifest says input width {spec.Input.Width}, height {spec.Input.Height}; fix input: in the manifest");
        return (name, spec.Input.Width, spec.Input.Height);
    }

    private long[] ProbeOutputShape()
    {
        using var outputs = _session.Run(_runOptions, _inputNames, _inputValues, _outputNames);
        return outputs[0].GetTensorTypeAndShape().Shape;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _session.Dispose();
            _runOptions.Dispose();
            _letterboxer.Dispose();
            foreach (var v in _inputValues) v.Dispose();
            foreach (var v in _outputValues) v.Dispose();
        }
    }
}
