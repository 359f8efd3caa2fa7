using System.Collections;

namespace CitySight.CommandCentre.Tests;

/// <summary>
/// Cameras as the host would hand them over, with the admin API's switch: disabling one makes it "disabled" on the
/// board (what CameraAdministrator does to a stream), enabling it brings back its state before. Handed to the console
/// as its list, it is read afresh on every call, as the host's board is.
/// </summary>
internal sealed class FakeCameraBoard(IEnumerable<ConsoleCamera> cameras) : IReadOnlyList<ConsoleCamera>
{
    private readonly object _gate = new();
    private readonly List<ConsoleCamera> _cameras = cameras.ToList();
    private readonly Dictionary<string, ConsoleCamera> _before = [];

    /// <summary>The board the console reads (a copy, as the host builds one per call).</summary>
    public IReadOnlyList<ConsoleCamera> Cameras { get { lock (_gate) return _cameras.ToList(); } }

    /// <summary>Set to make the switch fail as the admin API does once the streams have stopped.</summary>
    public string? Stopped { get; set; }

    public int Switches { get; private set; }

    public ConsoleCamera this[string id] => Cameras.Single(c => c.Id == id);

    public ConsoleCamera this[int index] => Cameras[index];

    public int Count => Cameras.Count;

    public IEnumerator<ConsoleCamera> GetEnumerator() => Cameras.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public Task<ConsoleCamera?> Switch(string id, bool enabled, CancellationToken ct)
    {
        if (Stopped is { } why) throw new InvalidOperationException(why);
        lock (_gate)
        {
            var at = _cameras.FindIndex(c => c.Id == id);
            if (at < 0) return Task.FromResult<ConsoleCamera?>(null);
            Switches++;
            var c = _cameras[at];
            if (!enabled && c.State != "disabled")
            {
                _before[id] = c;
                _cameras[at] = c with { State = "disabled", Reason = "disabled with the admin API (until the next reload or restart)", FramesPerSecond = null };
            }
            else if (enabled && _before.Remove(id, out var was)) _cameras[at] = was;
            return Task.FromResult<ConsoleCamera?>(_cameras[at]);
        }
    }

    /// <summary>A district's worth of cameras: several groups and streets, every state, some with frames and a rate.</summary>
    public static IEnumerable<ConsoleCamera> District(int count)
    {
        string[] states = ["streaming", "streaming", "streaming", "patrolled", "offline", "stalled", "connecting", "disabled"];
        (string Id, string Name, string Street)[] groups =
        [
            ("xuhui-tianlin", "田林街道", "田林路"), ("xuhui-caohejing", "漕河泾街道", "漕宝路"), ("xuhui-kangjian", "康健街道", "桂林路"),
            ("minhang-gumei", "古美街道", "古美路"), ("minhang-xinzhuang", "莘庄镇", "莘松路"),
        ];
        for (var i = 0; i < count; i++)
        {
            var g = groups[i % groups.Length];
            var state = states[i / groups.Length % states.Length];
            var flowing = state is "streaming" or "patrolled";
            yield return new ConsoleCamera($"cam-{i:D4}", $"{g.Street}{i}号杆", g.Id, g.Name, state,
                state switch { "offline" => "connection refused", "stalled" => "no frame for 30 s", "disabled" => "disabled in the configuration", _ => null },
                31.17 + i * 1e-4, 121.43 - i * 1e-4, flowing ? 1.5 + i % 7 : null, g.Street,
                state == "patrolled" ? "patrol" : "continuous", state == "streaming" ? 4.8 + i % 3 * 0.1 : null);
        }
    }
}
