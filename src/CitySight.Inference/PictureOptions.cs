namespace CitySight.Inference;

/// <summary>console: how the cameras' latest pictures for the console are taken (<see cref="PictureTap"/>).</summary>
public sealed record PictureOptions
{
    /// <summary>At most one picture per camera this often (wall clock); the encode is the only cost of the console on the pipeline.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);
}
