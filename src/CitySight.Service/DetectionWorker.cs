using CitySight.Domain;
using CitySight.Inference;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CitySight.Service;

/// <summary>The shared detector: takes frames from every camera, in turn, and hands each on with its detections.</summary>
public sealed class DetectionWorker(OnnxDetector detector, PipelineChannels channels, ILogger<DetectionWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Inference is CPU-bound and synchronous: keep it off the start-up path.
        await Task.Yield();
        var writer = channels.Detected.Writer;
        try
        {
            await foreach (var frame in channels.Frames.ReadAllAsync(stoppingToken))
            {
                DetectedFrame detected;
                try
                {
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    var detections = detector.Detect(frame);
                    detected = new DetectedFrame(frame, detections, System.Diagnostics.Stopwatch.GetElapsedTime(started));
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogError(ex, "Detection failed on a frame from camera {Camera}; frame skipped", frame.CameraId);
                    frame.Dispose();
                    continue;
                }
                await writer.WriteAsync(detected, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        finally
        {
            writer.TryComplete();
            channels.Frames.DisposeWaiting();
        }
    }
}
