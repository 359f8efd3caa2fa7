using CitySight.Domain;
using CitySight.Inference.StaticObjects;

namespace CitySight.Inference.Tests.StaticObjects;

/// <summary>Feeds a detector frames on an explicit frame clock (no wall clock, no sleeps) and keeps what it found.</summary>
internal sealed class SceneClock(StaticObjectDetector detector)
{
    public static readonly DateTimeOffset Start = new(2026, 5, 4, 17, 0, 0, TimeSpan.Zero);

    public StaticObjectDetector Detector { get; } = detector;
    public TimeSpan Now { get; private set; }

    /// <summary>Detections of the last frame, copied (the detector reuses its list).</summary>
    public List<Detection> Last { get; } = [];

    /// <summary>How many frames so far had at least one detection.</summary>
    public int FramesWithDetections { get; private set; }

    public List<Detection> At(TimeSpan t, byte[] frame, params Box[] masked)
    {
        Now = t;
        var scene = StreetScene.ParkingLot;
        var found = Detector.Detect(frame, scene.Width, scene.Height, Start + t, masked);
        Last.Clear();
        for (var i = 0; i < found.Count; i++) Last.Add(found[i]);
        if (Last.Count > 0) FramesWithDetections++;
        return Last;
    }

    /// <summary>Frames every <paramref name="every"/> from <paramref name="from"/> until before <paramref name="until"/>, each asserted.</summary>
    public void Run(TimeSpan from, TimeSpan until, TimeSpan every, Func<TimeSpan, byte[]> frame, Action<TimeSpan, List<Detection>> check, params Box[] masked)
    {
        for (var t = from; t < until; t += every) check(t, At(t, frame(t), masked));
    }
}
