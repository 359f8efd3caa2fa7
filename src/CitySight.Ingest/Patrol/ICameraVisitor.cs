using CitySight.Domain;

namespace CitySight.Ingest.Patrol;

/// <summary>Takes one fresh frame from a camera: connect, decode one keyframe, disconnect.</summary>
public interface ICameraVisitor
{
    Task<Frame> VisitAsync(Camera camera, CancellationToken ct);
}
