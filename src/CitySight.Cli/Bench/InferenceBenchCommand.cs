using System.CommandLine;
using System.Globalization;
using CitySight.Configuration;
using CitySight.Domain;
using CitySight.Inference;
using CitySight.Bench;

namespace CitySight.Cli.Bench;

/// <summary>
/// `citysight bench`: frames/s of the real detect stage against bare session.Run, per batch size, on the chosen provider.
/// Parses and checks the arguments; <see cref="InferenceBenchRunner"/> measures and reports.
/// </summary>
internal static class InferenceBenchCommand
{
    public static Command Create()
    {
        var source = new Option<string>("--source")
        {
            Description = "A video file (looped, decoded as fast as the pipeline takes frames), a folder of *.jpg/*.png images (or one image), " +
                          "or an RTSP URL (\"{i}\" in it becomes the stream number 0..N-1)",
            Required = true,
        };
        var streams = new Option<int>("--streams") { Description = "Streams (cameras) fed at once", DefaultValueFactory = _ => 4 };
        var batch = new Option<string>("--batch") { Description = "Batch sizes to measure, e.g. 1 or 1,2,4,8 (models.run max_batch)", DefaultValueFactory = _ => "1" };
        var provider = new Option<string?>("--provider") { Description = "cpu, cuda, tensorrt or openvino (default: the model's models.run provider, else cpu)" };
        var device = new Option<int?>("--device") { Description = "GPU index for cuda/tensorrt; openvino: 0 = CPU, N = GPU.(N-1) (default: models.run device_id)" };
        var model = new Option<string?>("--model") { Description = "Model name in the manifest (default: the first configured model)" };
        var threads = new Option<int?>("--threads") { Description = "Intra-op threads per session; 0 = ONNX Runtime chooses (default: models.run threads, normally 0)" };
        var instances = new Option<int>("--instances") { Description = "Sessions side by side (a fixed-batch model at --batch B > 1 runs B sessions anyway)", DefaultValueFactory = _ => 1 };
        var maxWait = new Option<string?>("--max-wait") { Description = "How long a batch's first frame may wait for more, e.g. 5ms (default: 0 at batch 1, 5ms above)" };
        var frames = new Option<int>("--frames") { Description = "Frames measured per batch size, after a warm-up of max(8, 2 x batch x sessions) frames and at least 2 s", DefaultValueFactory = _ => 200 };
        var rounds = new Option<int?>("--rounds")
        {
            Description = "Pipeline and bare session.Run alternate this many times per batch size, so that load from other processes " +
                          "hits both alike (default: one round per 50 frames, 1 to 4)",
        };
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file" };
        var chart = new Option<string?>("--chart") { Description = "Also draw a PNG: frames/s against batch size and the latency distribution, side by side" };
        var config = ConfigPaths.ConfigOption();
        var cmd = new Command("bench",
            "Frames/s per device: the real pipeline (N streams → mailboxes → detect stage) against bare session.Run with the same " +
            "sessions, batch and threads; latency p50/p95/p99, mean batch fill, CPU use.")
        {
            source, streams, batch, provider, device, model, threads, instances, maxWait, frames, rounds, json, chart, config,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            try
            {
                return await RunAsync(new Args(
                    parse.GetValue(source)!, parse.GetValue(streams), parse.GetValue(batch)!, parse.GetValue(provider), parse.GetValue(device),
                    parse.GetValue(model), parse.GetValue(threads), parse.GetValue(instances), parse.GetValue(maxWait), parse.GetValue(frames),
                    parse.GetValue(rounds), parse.GetValue(json), parse.GetValue(chart), parse.GetValue(config)), ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Console.Error.WriteLine("bench: cancelled");
                return 130;
            }
            catch (Exception ex) when (Expected(ex))
            {
                Console.Error.WriteLine($"bench: {ex.Message}");
                return 2;
            }
            catch (Exception ex)
            {
                Console.Error.WriteLine($"bench: failed: {ex.GetType().Name}: {ex.Message}");
                return 1;
            }
        });
        return cmd;
    }

    private sealed record Args(string Source, int Streams, string Batch, string? Provider, int? Device, string? Model, int? Threads,
        int Instances, string? MaxWait, int Frames, int? Rounds, string? Json, string? Chart, string? Config);

    /// <summary>Errors the user can fix from the command line or the config: one line, exit code 2.</summary>
    private static bool Expected(Exception ex) => ex is BenchException or ModelMismatchException or ModelNotFoundException
        or ModelHashMismatchException or ManifestException or FileNotFoundException or KeyNotFoundException;

    private static async Task<int> RunAsync(Args a, CancellationToken ct)
    {
        var batches = ParseBatches(a.Batch);
        if (a.Streams < 1) throw new BenchException($"--streams {a.Streams}: at least 1");
        if (a.Frames < 1) throw new BenchException($"--frames {a.Frames}: at least 1");
        if (a.Rounds is < 1) throw new BenchException($"--rounds {a.Rounds}: at least 1");
        if (a.Instances < 1) throw new BenchException($"--instances {a.Instances}: at least 1");
        if (a.Threads is < 0) throw new BenchException($"--threads {a.Threads}: 0 (ONNX Runtime chooses) or more");
        if (a.Device is < 0) throw new BenchException($"--device {a.Device}: 0 or more");
        TimeSpan? maxWait = null;
        if (a.MaxWait is { } mw)
            maxWait = Durations.TryParse(mw, out var w) ? w : throw new BenchException($"--max-wait {mw}: use {Durations.AcceptedForms}");
        ExecutionProvider? provider = a.Provider is null ? null : ParseProvider(a.Provider);

        var cfg = ConfigPaths.LoadOrReport(ConfigPaths.Resolve(a.Config));
        if (cfg is null) return 2;
        return await InferenceBenchRunner.RunAsync(new InferenceBenchRequest
        {
            Source = a.Source,
            Streams = a.Streams,
            Batches = batches,
            Provider = provider,
            Device = a.Device,
            Model = a.Model,
            Threads = a.Threads,
            Instances = a.Instances,
            MaxWait = maxWait,
            Frames = a.Frames,
            Rounds = a.Rounds,
            Json = a.Json,
            Chart = a.Chart,
        }, cfg, ct);
    }

    private static List<int> ParseBatches(string text)
    {
        var list = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var b) || b < 1 || b > 1024)
                throw new BenchException($"--batch {text}: expected batch sizes from 1 to 1024, comma-separated (e.g. 1,2,4,8)");
            if (!list.Contains(b)) list.Add(b);
        }
        if (list.Count == 0) throw new BenchException($"--batch '{text}': expected batch sizes, comma-separated (e.g. 1,2,4,8)");
        return list;
    }

    private static ExecutionProvider ParseProvider(string text) => text.Trim().ToLowerInvariant() switch
    {
        "cpu" => ExecutionProvider.Cpu,
        "cuda" => ExecutionProvider.Cuda,
        "tensorrt" or "trt" => ExecutionProvider.TensorRt,
        "openvino" => ExecutionProvider.OpenVino,
        _ => throw new BenchException($"--provider {text}: expected cpu, cuda, tensorrt or openvino"),
    };

}
