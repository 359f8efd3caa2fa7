using System.Collections.Concurrent;
using CitySight.Domain;

namespace CitySight.Ingest.Patrol;

/// <summary>A patrol visit through ffmpeg: connect over RTSP/TCP, decode the first keyframe, disconnect.</summary>
public sealed class SnapshotVisitor(IngestOptions options) : ICameraVisitor
{
    // A patrolled camera keeps counting its frames across visits.
    private readonly ConcurrentDictionary<string, long> _sequences = new();

    public Task<Frame> VisitAsync(Camera camera, CancellationToken ct) =>
        VideoReader.SnapshotAsync(camera.Id, camera.Url, options.SnapshotOptionsFor(camera) with
        {
            Sequence = _sequences.AddOrUpdate(camera.Id, 0, (_, n) => n + 1),
        }, ct);
}
