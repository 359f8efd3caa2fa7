namespace CitySight.Imaging;

/// <summary>How a frame is fitted into a model's input.</summary>
public enum ResizeMode
{
    /// <summary>Keep aspect ratio, pad evenly on both sides (Ultralytics YOLOv5/v8/11).</summary>
    Letterbox,

    /// <summary>Keep aspect ratio, image in the top-left corner, pad right and bottom (YOLOX).</summary>
    LetterboxTopLeft,

    /// <summary>Resize to the input size ignoring aspect ratio (FastestDet).</summary>
    Stretch,
}

/// <summary>Channel order of the model's input tensor.</summary>
public enum ChannelOrder
{
    Rgb,
    Bgr,
}

/// <summary>What a model wants as input: a planar CHW float tensor of Width x Height.</summary>
/// <param name="Scale">Multiplies each 0..255 byte: 1/255 for 0..1 models, 1 for 0..255 models.</param>
/// <param name="Pad">Byte value of the padding around a letterboxed image (before scaling).</param>
public sealed record PreprocessSpec(
    int Width,
    int Height,
    ResizeMode Resize = ResizeMode.Letterbox,
    ChannelOrder Channels = ChannelOrder.Rgb,
    float Scale = 1f / 255f,
    byte Pad = 114)
{
    public int TensorLength => 3 * Width * Height;
}
