using System.Collections.Concurrent;
using CitySight.Configuration;
using CitySight.Domain;
using CitySight.Ingest;

namespace CitySight.Service.Patrol;

/// <summary>A patrol visit through ffmpeg: connect over RTSP/TCP, decode the first keyframe, disconnect.</summary>
public sealed class SnapshotVisitor(IngestSettings settings) : ICameraVisitor
{
    // A patrolled camera keeps counting its frames across visits.
    private readonly ConcurrentDictionary<string, long> _sequences = new();

    public Task<Frame> VisitAsync(Camera camera, CancellationToken ct) =>
        VideoReader.SnapshotAsync(camera.Id, camera.Url, SnapshotOptions.For(camera) with
        {
            Timeout = settings.SnapshotTimeout,
            MaxWidth = settings.MaxFrameWidth,
            MaxHeight = settings.MaxFrameHeight,
            Sequence = _sequences.AddOrUpdate(camera.Id, 0, (_, n) => n + 1),
        }, ct);
}
