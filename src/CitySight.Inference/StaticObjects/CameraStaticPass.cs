using CitySight.Domain;

namespace CitySight.Inference.StaticObjects;

/// <summary>
/// The static-object pass of ONE camera inside the detect stage: its <see cref="StaticObjectDetector"/> and the reused
/// mask buffer. Runs after every model has answered a frame, with every model detection of that frame (any class:
/// vehicles, persons, everything a model knows) as a mask, so a parked car is never garbage: only what no model
/// recognises can become a static object. What a static object means is its zone's to say
/// (<see cref="ModelFreeTypes.StaticObjectTypeAt"/>): garbage on the ground, a billboard on a façade, or, in a zone
/// that asks only for stalls, no case type at all (a stall's goods, which the stall rule looks for beside a person).
/// </summary>
public sealed class CameraStaticPass
{
    /// <summary>How much each side of a model's box is widened for the mask, as a fraction of its size: its shadow.</summary>
    public const float MaskMargin = 0.10f;

    private readonly StaticObjectDetector _detector;
    private Box[] _masks = new Box[16];

    public CameraStaticPass(Camera camera, StaticObjectOptions? options = null)
    {
        Camera = camera;
        _detector = new StaticObjectDetector(options);
    }

    /// <summary>The camera definition this pass was made for; a reload (a new instance) makes a new pass.</summary>
    public Camera Camera { get; }

    /// <summary>
    /// Runs the pass on <paramref name="frame"/> and returns the models' detections with the static objects appended,
    /// each with the case type of the zone its foot stands in (null: a stall's goods only). Without a static object the
    /// models' list is returned as it is (nothing allocated); with one, a fresh array, since the joined list travels
    /// downstream with the frame and must not be overwritten by this camera's next frame.
    /// </summary>
    public IReadOnlyList<Detection> Run(Frame frame, IReadOnlyList<Detection> models)
    {
        if (_masks.Length < models.Count) _masks = new Box[Math.Max(models.Count, _masks.Length * 2)];
        for (var i = 0; i < models.Count; i++)
        {
            var b = models[i].Box;
            var dx = b.Width * MaskMargin;
            var dy = b.Height * MaskMargin;
            _masks[i] = new Box(b.X1 - dx, b.Y1 - dy, b.X2 + dx, b.Y2 + dy);
        }
        var statics = _detector.Detect(frame, _masks.AsSpan(0, models.Count));
        if (statics.Count == 0) return models;
        var joined = new Detection[models.Count + statics.Count];
        for (var i = 0; i < models.Count; i++) joined[i] = models[i];
        for (var i = 0; i < statics.Count; i++)
        {
            var s = statics[i];
            joined[models.Count + i] = s with
            {
                CaseType = ModelFreeTypes.StaticObjectTypeAt(Camera, s.Box.BottomCentre(frame.Width, frame.Height)),
            };
        }
        return joined;
    }
}
