namespace CitySight.CommandCentre.Api;

/// <summary>The body of POST /api/v1/cameras/{id}/enabled: true switches the camera on, false off.</summary>
public sealed record CameraEnabled(bool? Enabled);
