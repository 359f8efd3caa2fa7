namespace CitySight.Rules;

/// <summary>A remembered view of a scene: BGR pixels (a pooled buffer, possibly longer than the view), its size and when it was taken.</summary>
public sealed record SceneView(byte[] Bgr, int Width, int Height, DateTimeOffset TakenAt);
