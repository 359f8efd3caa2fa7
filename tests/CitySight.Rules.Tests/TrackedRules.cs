using CitySight.Domain;
using CitySight.Tracking;

namespace CitySight.Rules.Tests;

/// <summary>
/// One camera's rules fed as the pipeline feeds them: each detected frame goes through a real tracking stage (the
/// camera's tracker, its detectors filter, the stationary radius per case type from the rules, as the host wires it)
/// and the tracked frame to <see cref="CameraRules"/>.
/// </summary>
internal sealed class TrackedRules
{
    private readonly TrackingStage _tracking;

    public TrackedRules(Camera camera, RuleOptions options)
    {
        Rules = new CameraRules(camera, options);
        _tracking = new TrackingStage([camera],
            new TrackerOptions { StationaryRadiusFor = type => (float)options.RuleFor(type).StationaryRadius });
    }

    public CameraRules Rules { get; }

    public void Remember(Case c) => Rules.Remember(c);

    /// <summary>Tracks the frame, evaluates it and disposes it (the frame with it); what the rules decided.</summary>
    public List<CaseDecision> Evaluate(DetectedFrame detected)
    {
        using var tracked = _tracking.Track(detected) ?? throw new InvalidOperationException("the camera is not tracked");
        return [.. Rules.Evaluate(tracked)];
    }
}
