using System.Collections.Concurrent;

namespace CitySight.Imaging;

/// <summary>
/// Every camera's latest picture for the console (its wall, its zone editor): one JPEG per camera, at most
/// <see cref="MaxWidth"/> pixels wide, taken from the frames the cameras send at most once per interval. Memory stays
/// bounded by the camera count: a new picture replaces the old one.
/// </summary>
public sealed class CameraPictures
{
    public const int DefaultMaxWidth = 640;

    private readonly ConcurrentDictionary<string, CameraPictureSlot> _slots = new(StringComparer.Ordinal);

    /// <param name="interval">At most one picture per camera per interval (wall clock: a file replayed fast is not encoded faster).</param>
    public CameraPictures(TimeSpan interval, int maxWidth = DefaultMaxWidth, int quality = 80, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWidth, 16);
        Time = time ?? TimeProvider.System;
        IntervalTicks = (long)(interval.TotalSeconds * Time.TimestampFrequency);
        MaxWidth = maxWidth;
        Quality = quality;
    }

    public int MaxWidth { get; }
    internal int Quality { get; }
    internal TimeProvider Time { get; }
    internal long IntervalTicks { get; }

    /// <summary>The camera's slot, made once: a producer keeps it, so a frame needs no lookup.</summary>
    public CameraPictureSlot SlotFor(string cameraId) => _slots.GetOrAdd(cameraId, _ => new CameraPictureSlot(this));

    /// <summary>The camera's latest picture, or null when it has sent none (or has no slot).</summary>
    public CameraPicture? Latest(string cameraId) => _slots.TryGetValue(cameraId, out var slot) ? slot.Picture : null;

    /// <summary>Forgets a camera removed from the configuration.</summary>
    public void Remove(string cameraId) => _slots.TryRemove(cameraId, out _);
}
