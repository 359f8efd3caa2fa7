namespace CitySight.Domain;

/// <summary>An axis-aligned box in source-image pixels: (X1,Y1) top-left, (X2,Y2) bottom-right.</summary>
public readonly record struct Box(float X1, float Y1, float X2, float Y2)
{
    public float Width => MathF.Max(0, X2 - X1);
    public float Height => MathF.Max(0, Y2 - Y1);
    public float Area => Width * Height;

    public float IoU(in Box o)
    {
        var w = MathF.Min(X2, o.X2) - MathF.Max(X1, o.X1);
        var h = MathF.Min(Y2, o.Y2) - MathF.Max(Y1, o.Y1);
        if (w <= 0 || h <= 0) return 0;
        var inter = w * h;
        return inter / (Area + o.Area - inter);
    }

    /// <summary>The point where the object meets the ground, normalised: zones are tested with it.</summary>
    public NormalisedPoint BottomCentre(int imageWidth, int imageHeight) =>
        new((X1 + X2) / 2 / imageWidth, Y2 / imageHeight);
}

/// <summary>One object the detector found. CaseType is null when its class maps to no case type.</summary>
public readonly record struct Detection(int ClassId, string ClassName, float Confidence, Box Box, string? CaseType);

/// <summary>A frame with what the detector found in it; the frame travels on and is disposed downstream.</summary>
public sealed record DetectedFrame(Frame Frame, IReadOnlyList<Detection> Detections, TimeSpan InferenceTime);
