using System.CommandLine;
using System.Text.Json;
using CitySight.Domain;
using CitySight.Configuration;
using CitySight.Imaging;
using CitySight.Inference;
using CitySight.Ingest;

namespace CitySight.Cli;

/// <summary>Runs the detector over an image or a video and prints one JSON object per detection.</summary>
internal static class DetectCommand
{
    private static readonly HashSet<string> ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp"];

    public static Command Create()
    {
        var input = new Argument<string>("INPUT") { Description = "An image (jpg/png) or a video file" };
        var config = ConfigPaths.ConfigOption();
        var model = new Option<string?>("--model") { Description = "Model name in the manifest (default: the first configured model)" };
        var outDir = new Option<string?>("--out") { Description = "Write annotated images into this folder" };
        var interval = new Option<double>("--interval") { Description = "Seconds between sampled video frames", DefaultValueFactory = _ => 1.0 };
        var cmd = new Command("detect", "Detect objects in an image or a video; prints one JSON object per detection (class, confidence, box in source pixels).")
        {
            input, config, model, outDir, interval,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var cfg = ConfigPaths.LoadOrReport(ConfigPaths.Resolve(parse.GetValue(config)));
            if (cfg is null) return 2;
            var path = parse.GetValue(input)!;
            if (!File.Exists(path))
            {
                Console.Error.WriteLine($"detect: no such file: {path}");
                return 2;
            }
            try
            {
                var manifest = ModelManifest.Load(cfg.Models.Manifest);
                var run = parse.GetValue(model) is { } named
                    ? cfg.Models.Run.FirstOrDefault(r => r.Model == named) ?? new ModelRun { Model = named }
                    : cfg.Models.Run[0];
                var spec = manifest.Get(run.Model);
                using var detector = new OnnxDetector(spec, ModelLocator.Locate(spec, cfg.Models.SearchPaths),
                    run.Detector with { MaxBatch = 1, Instances = 1 });
                if (detector.Provider.FellBack) Console.Error.WriteLine($"warning: model {spec.Name}: {detector.Provider.FallbackReason}");
                var output = parse.GetValue(outDir);
                if (output is not null) Directory.CreateDirectory(output);
                var name = Path.GetFileNameWithoutExtension(path);

                if (ImageExtensions.Contains(Path.GetExtension(path).ToLowerInvariant()))
                {
                    using var frame = EvidenceImage.LoadFrame(path, name);
                    Report(path, frame, null, detector.Detect(frame), output, name);
                    return 0;
                }

                var options = new VideoReadOptions { SampleInterval = TimeSpan.FromSeconds(parse.GetValue(interval)), RealTime = false };
                var first = (DateTimeOffset?)null;
                await foreach (var frame in VideoReader.ReadAsync(name, Path.GetFullPath(path), options, ct))
                {
                    using (frame)
                    {
                        first ??= frame.CaptureTime;
                        var t = (frame.CaptureTime - first.Value).TotalSeconds;
                        Report(path, frame, t, detector.Detect(frame), output, $"{name}-{frame.Sequence:D5}");
                    }
                }
                return 0;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Console.Error.WriteLine($"detect: {ex.Message}");
                return 1;
            }
        });
        return cmd;
    }

    private static void Report(string source, Frame frame, double? seconds, IReadOnlyList<Detection> detections, string? outDir, string stem)
    {
        foreach (var d in detections)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                source,
                frame = frame.Sequence,
                time_s = seconds,
                @class = d.ClassName,
                confidence = MathF.Round(d.Confidence, 4),
                box = new[] { MathF.Round(d.Box.X1, 1), MathF.Round(d.Box.Y1, 1), MathF.Round(d.Box.X2, 1), MathF.Round(d.Box.Y2, 1) },
                case_type = d.CaseType,
            }));
        }
        if (outDir is null) return;
        var marks = detections.Select(d => (d.Box, $"{d.ClassName} {d.Confidence:F2}")).ToList();
        File.WriteAllBytes(Path.Combine(outDir, stem + ".jpg"), EvidenceImage.EncodeAnnotatedJpeg(frame.Bgr, frame.Width, frame.Height, marks));
    }
}
