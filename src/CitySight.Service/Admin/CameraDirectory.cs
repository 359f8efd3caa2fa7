using CitySight.Configuration;
using CitySight.Domain;

namespace CitySight.Service.Admin;

/// <summary>
/// The configuration in force now: the one the service started with, with the camera changes of each reload applied
/// (sections that need a restart keep their start-up values). In a cluster every node loads the same files
/// (<see cref="Shared"/>) and runs only the cameras it owns now (<see cref="Config"/>). Read from any thread; replaced
/// whole by a reload or a change of ownership.
/// </summary>
public sealed class CameraDirectory
{
    private volatile State _state;

    /// <param name="owned">The cameras this node runs; null: a single node, which runs them all.</param>
    public CameraDirectory(CitySightConfig config, IReadOnlySet<string>? owned = null) => _state = new State(config, owned);

    /// <summary>What runs on this node: <see cref="Shared"/> with only the cameras it owns.</summary>
    public CitySightConfig Config => _state.Config;

    /// <summary>Every camera of the configuration, wherever it runs.</summary>
    public CitySightConfig Shared => _state.Shared;

    /// <summary>The cameras this node owns now; null on a single node (all of them).</summary>
    public IReadOnlySet<string>? Owned => _state.Owned;

    /// <summary>The camera with this id running here now, or null (removed by a reload, never configured, or another node's).</summary>
    public Camera? Find(string id) => _state.Cameras.GetValueOrDefault(id);

    /// <summary>The camera with this id in the configuration, wherever it runs; null when none has it.</summary>
    public Camera? FindShared(string id) => _state.SharedCameras.GetValueOrDefault(id);

    public CameraGroup? GroupOf(string cameraId) => _state.Groups.GetValueOrDefault(cameraId);

    internal void Set(CitySightConfig shared, IReadOnlySet<string>? owned) => _state = new State(shared, owned);

    /// <summary><paramref name="shared"/> with only the cameras in <paramref name="owned"/> (all of them when null).</summary>
    public static CitySightConfig Here(CitySightConfig shared, IReadOnlySet<string>? owned) => owned is null
        ? shared
        : shared with { Groups = shared.Groups.Select(g => g with { Cameras = g.Cameras.Where(c => owned.Contains(c.Id)).ToList() }).ToList() };

    private sealed class State
    {
        public State(CitySightConfig shared, IReadOnlySet<string>? owned)
        {
            Shared = shared;
            Owned = owned;
            Config = Here(shared, owned);
            SharedCameras = shared.Cameras.ToDictionary(c => c.Id);
            Cameras = Config.Cameras.ToDictionary(c => c.Id);
            Groups = shared.Groups.SelectMany(g => g.Cameras.Select(c => (c.Id, g))).ToDictionary(p => p.Id, p => p.g);
        }

        public CitySightConfig Shared { get; }
        public IReadOnlySet<string>? Owned { get; }
        public CitySightConfig Config { get; }
        public Dictionary<string, Camera> SharedCameras { get; }
        public Dictionary<string, Camera> Cameras { get; }
        public Dictionary<string, CameraGroup> Groups { get; }
    }
}
