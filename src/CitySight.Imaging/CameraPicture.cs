namespace CitySight.Imaging;

/// <summary>A camera's latest picture: a JPEG at most <see cref="CameraPictures.MaxWidth"/> wide, and when it was taken.</summary>
/// <param name="Jpeg">Never changed once published: readers (the console's HTTP responses) share it.</param>
public sealed record CameraPicture(byte[] Jpeg, DateTimeOffset CapturedAt, int Width, int Height);
