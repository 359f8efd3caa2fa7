namespace CitySight.CommandCentre;

/// <summary>A camera's latest picture as the host keeps it: a JPEG at most 640 px wide and when its frame was taken.</summary>
public sealed record ConsolePicture(ReadOnlyMemory<byte> Jpeg, DateTimeOffset CapturedAt);

/// <summary>The camera's latest picture, or null when it has none yet. The host implements it from the pipeline's frames.</summary>
public delegate ConsolePicture? CameraPictureSource(string cameraId);
