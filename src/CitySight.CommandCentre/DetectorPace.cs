using CitySight.CommandCentre.Api;

namespace CitySight.CommandCentre;

/// <summary>
/// Turns the host's detector totals into rates: each read keeps a sample, and the rate is taken against the oldest
/// sample of the last <see cref="Window"/> (and always the one before, so a page that asks every 30 s still gets one).
/// No timer: with nobody looking nothing runs.
/// </summary>
internal sealed class DetectorPace(Func<DetectorCounters> read, TimeProvider time)
{
    /// <summary>Rates are over about this long: steady enough to read on a wall, fresh enough to show a stall.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    private readonly Queue<(DateTimeOffset At, DetectorCounters Counters)> _samples = new();
    private readonly Lock _lock = new();

    public DetectorFigures Read()
    {
        var now = time.GetUtcNow();
        var counters = read();
        lock (_lock)
        {
            // Drop the oldest while the next one is still old enough to span the window.
            while (_samples.Count > 1 && now - _samples.ElementAt(1).At >= Window) _samples.Dequeue();
            var (since, before) = _samples.Count > 0 ? _samples.Peek() : (now, counters);
            _samples.Enqueue((now, counters));
            var seconds = (now - since).TotalSeconds;
            double? Rate(long from, long to) => seconds >= 1 ? Math.Max(0, to - from) / seconds : null;
            var frames = counters.FramesByModel.Values.Sum();
            return new DetectorFigures(
                Rate(before.FramesByModel.Values.Sum(), frames),
                Rate(before.Dropped, counters.Dropped),
                frames,
                counters.Dropped,
                Math.Round(seconds, 1),
                counters.FramesByModel.ToDictionary(m => m.Key, m => Rate(before.FramesByModel.GetValueOrDefault(m.Key), m.Value)));
        }
    }
}
